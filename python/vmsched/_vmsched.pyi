"""Type stub of the compiled module `vmsched._vmsched` (the Rust half of the package)."""
from typing import Any, Callable, Dict, List, Optional, Tuple, Union
import os

__version__: str

class VmschedError(ValueError):
    """Bad input or a failed run; the message is the one the command line prints."""

class Scenario:
    """A vmsched scenario; `set` returns a changed copy."""

    @staticmethod
    def default() -> Scenario:
        """The built-in default scenario (what `vmsched scenario` prints)."""
    @staticmethod
    def load(path: Union[str, os.PathLike[str]]) -> Scenario:
        """Reads and checks a scenario file."""
    @staticmethod
    def from_toml(text: str, label: str = "<string>") -> Scenario:
        """A scenario from TOML text (`label` names it in errors)."""
    def set(self, key: str, value: Union[bool, int, float, str]) -> Scenario:
        """A copy with the dotted key (as in `sweep --set`) set to `value`, checked."""
    def to_toml(self) -> str:
        """The scenario as TOML text."""
    def describe(self) -> str:
        """The workload in words."""
    @property
    def offered_load(self) -> Optional[float]: ...
    @property
    def seed(self) -> int: ...
    @property
    def replications(self) -> int: ...

_Columns = Tuple[List[str], Dict[str, Any]]
_Progress = Optional[Callable[[int, int], Any]]

def compare(
    scenario: Scenario,
    policies: List[str],
    seed: Optional[int] = None,
    replications: Optional[int] = None,
    vms: Optional[int] = None,
    keep_vms: bool = False,
    threads: Optional[int] = None,
    progress: _Progress = None,
) -> Dict[str, Any]: ...
def sweep(
    scenario: Scenario,
    grid: List[Tuple[str, List[str]]],
    policies: Optional[List[str]] = None,
    seed: Optional[int] = None,
    replications: Optional[int] = None,
    vms: Optional[int] = None,
    threads: Optional[int] = None,
    progress: _Progress = None,
) -> _Columns: ...
def capacity(
    scenario: Scenario,
    slo: str,
    vary: str,
    min: int,
    max: int,
    load_scale: List[float],
    policies: Optional[List[str]] = None,
    replications: Optional[int] = None,
    max_replications: Optional[int] = None,
    seed: Optional[int] = None,
    vms: Optional[int] = None,
    threads: Optional[int] = None,
    progress: _Progress = None,
) -> _Columns: ...
def textbook(
    source: str,
    table_csv: Optional[str] = None,
    policy: Optional[str] = None,
    quantum: Optional[float] = None,
    context_switch: float = 0.0,
) -> Dict[str, Any]: ...
def textbook_cases() -> List[Tuple[str, str, str, float]]: ...
def policies() -> Tuple[List[Tuple[str, str]], List[Tuple[str, str]]]: ...

class VcpuView:
    """What a Python CPU policy sees about a runnable or running vCPU (times in seconds)."""
    vm: int
    priority: int
    arrival: float
    estimate: float
    attained: float
    ready_since: float
    preempted: bool
    remaining_estimate: float

class VmView:
    """What a Python admission policy sees about a waiting VM (times in seconds)."""
    id: int
    arrival: float
    vcpus: int
    memory_mib: int
    priority: int
    estimate: float
    tenant: Optional[int]

def run_own_policy(
    scenario: Scenario,
    cpu_policy: Any,
    label: str,
    seed: Optional[int] = None,
    replications: Optional[int] = None,
    vms: Optional[int] = None,
    keep_vms: bool = False,
    admission_policy: Any = None,
) -> Dict[str, Any]: ...
