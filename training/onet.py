"""O*NET 29.2 loading helpers shared by the benchmarks and the model-building scripts.

This includes information from the O*NET 29.2 Database by the U.S. Department of Labor, Employment and
Training Administration (USDOL/ETA). Used under the CC BY 4.0 license. O*NET® is a trademark of USDOL/ETA.

The files are read from ``../shared/data/onet_29.2`` (override with ``TALENTMATCH_ONET_DIR``).

``split(code)`` divides occupations deterministically into a *fit* part (about 30 %: used to fit the
calibration) and an *eval* part (the rest: used by ``bench.quality``), so no benchmark case is ever seen
by a fitted artefact's labels.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_ONET_DIR = REPO_ROOT.parent / "shared" / "data" / "onet_29.2"
FIT_SHARE = 0.3

ATTRIBUTION = (
    "This includes information from the O*NET 29.2 Database by the U.S. Department of Labor, Employment "
    "and Training Administration (USDOL/ETA). Used under the CC BY 4.0 license. O*NET® is a trademark of "
    "USDOL/ETA."
)


@dataclass(frozen=True)
class TechSkill:
    example: str
    commodity_code: str
    commodity_title: str
    hot: bool


@dataclass(frozen=True)
class Task:
    task_id: str
    text: str
    core: bool


@dataclass
class Occupation:
    code: str
    title: str
    description: str
    tech: list[TechSkill] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    related: list[tuple[str, str, int]] = field(default_factory=list)  # (code, tier, index)


@dataclass
class Onet:
    occupations: dict[str, Occupation]
    alternate_titles: dict[str, list[str]]

    def all_phrases(self) -> set[str]:
        """Every technology example, commodity title and task statement."""
        out: set[str] = set()
        for occ in self.occupations.values():
            for t in occ.tech:
                out.add(t.example)
                out.add(t.commodity_title)
            out.update(task.text for task in occ.tasks)
        return out

    def part(self, name: str) -> list[Occupation]:
        """Occupations of one split part ("fit" or "eval") that have tasks and technology skills."""
        return [o for o in self.occupations.values() if split(o.code) == name and o.tasks and o.tech]


def split(code: str) -> str:
    """Deterministic occupation split: "fit" (about 30 %) or "eval"."""
    h = int.from_bytes(hashlib.sha256(code.encode()).digest()[:4], "big") / 2**32
    return "fit" if h < FIT_SHARE else "eval"


def read_tsv(path: Path) -> list[dict[str, str]]:
    """The rows of an O*NET tab-separated text file (header line first, no quoting)."""
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def onet_dir() -> Path:
    return Path(os.environ.get("TALENTMATCH_ONET_DIR", DEFAULT_ONET_DIR))


@lru_cache(maxsize=2)
def load_onet(directory: Path | None = None) -> Onet:
    """Parse the O*NET text files once per process."""
    base = directory or onet_dir()
    if not (base / "Occupation Data.txt").is_file():
        raise FileNotFoundError(f"O*NET 29.2 files not found in {base} (set TALENTMATCH_ONET_DIR)")
    occs = {
        r["O*NET-SOC Code"]: Occupation(r["O*NET-SOC Code"], r["Title"], r["Description"])
        for r in read_tsv(base / "Occupation Data.txt")
    }
    for r in read_tsv(base / "Technology Skills.txt"):
        occ = occs.get(r["O*NET-SOC Code"])
        if occ is not None:
            occ.tech.append(
                TechSkill(r["Example"], r["Commodity Code"], r["Commodity Title"], r["Hot Technology"] == "Y")
            )
    for r in read_tsv(base / "Task Statements.txt"):
        occ = occs.get(r["O*NET-SOC Code"])
        if occ is not None:
            occ.tasks.append(Task(r["Task ID"], r["Task"], r["Task Type"] == "Core"))
    for r in read_tsv(base / "Related Occupations.txt"):
        occ = occs.get(r["O*NET-SOC Code"])
        if occ is not None:
            occ.related.append((r["Related O*NET-SOC Code"], r["Relatedness Tier"], int(r["Index"])))
    alt: dict[str, list[str]] = {}
    for r in read_tsv(base / "Alternate Titles.txt"):
        alt.setdefault(r["O*NET-SOC Code"], []).append(r["Alternate Title"])
    return Onet(occs, alt)


# --- surface-form rewriting -------------------------------------------------------------------------

_PARTICLE = r"(?: up| out| down| off| in| on| over| back)?"
_VERB = rf"(?!or |and )[A-Za-z]+{_PARTICLE}"
VERB_LIST = re.compile(rf"^(?:(?:{_VERB}, )*{_VERB},? (?:or|and|and/or) )?(?P<verb>{_VERB}) (?P<rest>.+)$")
_CLAUSE_BREAK = re.compile(
    r",|;|\(| to (?=[a-z])| in order | so that | such as | including | using | according to | for (?=[a-z])"
    r"| with (?=[a-z])| by (?=[a-z])| on (?=[a-z])| in (?=[a-z])| from (?=[a-z])| that | which "
)
_PREPOSITIONS = {"to", "with", "for", "on", "in", "about", "from", "of", "at", "by", "into", "up", "out"}
_IRREGULAR = {
    "run": "running",
    "set": "setting",
    "cut": "cutting",
    "plan": "planning",
    "ship": "shipping",
    "put": "putting",
    "get": "getting",
    "begin": "beginning",
    "stop": "stopping",
    "be": "being",
    "dig": "digging",
    "trim": "trimming",
    "fit": "fitting",
    "tie": "tying",
    "die": "dying",
    "lie": "lying",
    "see": "seeing",
    "map": "mapping",
    "log": "logging",
    "chip": "chipping",
    "drop": "dropping",
    "grip": "gripping",
    "tag": "tagging",
    "skim": "skimming",
    "mop": "mopping",
    "scrub": "scrubbing",
    "strip": "stripping",
    "wrap": "wrapping",
    "bar": "barring",
    "confer": "conferring",
    "refer": "referring",
    "transfer": "transferring",
    "control": "controlling",
    "patrol": "patrolling",
    "program": "programming",
    "compel": "compelling",
    "admit": "admitting",
    "submit": "submitting",
    "permit": "permitting",
    "commit": "committing",
    "omit": "omitting",
    "remit": "remitting",
    "spot": "spotting",
    "plug": "plugging",
    "scan": "scanning",
    "pin": "pinning",
    "knit": "knitting",
    "swab": "swabbing",
}


def gerund(verb: str) -> str:
    """English -ing form of an imperative verb (good enough for O*NET task verbs)."""
    v = verb.lower()
    if v in _IRREGULAR:
        return _IRREGULAR[v]
    if v.endswith("ie"):
        return v[:-2] + "ying"
    if v.endswith("ee") or v.endswith("ye") or v.endswith("oe"):
        return v + "ing"
    if v.endswith("e") and len(v) > 2:
        return v[:-1] + "ing"
    return v + "ing"


def task_fragment(task: str, variant: int) -> str:
    """A shorter surface form of a task statement, as a graduate might list it.

    The leading verb list is reduced to its last verb ("Set up, adjust, or operate machine tools" ->
    "operate machine tools") and the object is cut at the first subordinate clause. ``variant`` picks
    the form: 0 imperative ("Operate machine tools"), 1 gerund ("Operating machine tools"), 2 the object
    alone ("machine tools").
    """
    text = task.strip().rstrip(".")
    match = VERB_LIST.match(text)
    if match is None:
        return " ".join(text.split()[:8])
    verb, rest = match.group("verb"), match.group("rest")
    obj = _CLAUSE_BREAK.split(rest, maxsplit=1)[0].strip()
    if len(obj.split()) < 2:
        obj = " ".join(re.split(r"[,;(]", rest, maxsplit=1)[0].split()[:6])
    choice = variant % 3
    if choice == 0:
        return f"{verb[:1].upper()}{verb[1:]} {obj}"
    if choice == 1 or len(obj.split()) < 2 or obj.split()[0].lower() in _PREPOSITIONS:
        head, _, particle = verb.partition(" ")
        return " ".join(x for x in (gerund(head).capitalize(), particle, obj) if x)
    return obj


# --- embedding cache for benchmarks -------------------------------------------------------------------

CACHE_DIR = REPO_ROOT / "bench" / "out"


class EmbeddingCache:
    """Phrase vectors of one encoder, kept in memory and in ``bench/out/emb-<name>-<version>.npz``.

    Benchmarks embed the same O*NET phrases on every run; the file makes a second run start at once.
    Keys are :func:`service.embeddings.encoder.normalize_phrase` of the text.
    """

    def __init__(self, encoder: Any, persist: bool = True) -> None:
        from service.text import normalize_phrase

        self._norm = normalize_phrase
        self.encoder = encoder
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{encoder.name}-{encoder.version}")
        self.path = CACHE_DIR / f"emb-{safe}.npz" if persist else None
        self.vectors: dict[str, np.ndarray] = {}
        if self.path is not None and self.path.is_file():
            with np.load(self.path, allow_pickle=False) as data:
                keys = [str(k) for k in data["keys"]]
                vecs = data["vecs"]
            self.vectors = dict(zip(keys, vecs, strict=True))
        self._dirty = False

    def embed(self, texts: list[str]) -> np.ndarray:
        keys = [self._norm(t) for t in texts]
        todo = sorted({k for k in keys if k not in self.vectors})
        if todo:
            for start in range(0, len(todo), 4096):
                chunk = todo[start : start + 4096]
                vecs = self.encoder.encode(chunk)
                self.vectors.update(zip(chunk, vecs, strict=True))
            self._dirty = True
        if not keys:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return np.stack([self.vectors[k] for k in keys]).astype(np.float32, copy=False)

    def save(self) -> None:
        if self.path is None or not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self.vectors), dtype=str)
        vecs = np.stack(list(self.vectors.values())).astype(np.float32)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, vecs=vecs)
        tmp.replace(self.path)
        self._dirty = False


_ACRONYM = re.compile(r"^[A-Z][A-Z0-9]{1,6}$")
_GENERIC_TAIL = {"software", "system", "systems", "suite", "platform", "application", "applications"}


def _acronym_of(words: list[str]) -> str | None:
    """The acronym in ``words`` that the words right before it spell ("... query language SQL")."""
    for i in range(len(words) - 1, 0, -1):
        word = words[i]
        if _ACRONYM.match(word) and i >= len(word):
            initials = "".join(w[0] for w in words[i - len(word) : i])
            if initials.upper() == word.upper():
                return word
    return None


def tech_variant(example: str, variant: int) -> str:
    """Another way of writing a technology ``Example``, as a graduate might.

    0: its acronym when the words before it spell it ("Structured query language SQL" -> "SQL"),
    else the product without the vendor ("Autodesk AutoCAD" -> "AutoCAD"), else without a generic tail
    word ("Incident tracking software" -> "Incident tracking"). 1: without the generic tail
    ("ESRI ArcGIS software" -> "ESRI ArcGIS"), else without the vendor. A one-word example stays.
    """
    words = example.split()
    if len(words) < 2:
        return example
    has_tail = words[-1].lower() in _GENERIC_TAIL
    core = words[:-1] if has_tail else words
    proper = len(core) >= 2 and core[0][:1].isupper() and core[1][:1].isupper()
    without_vendor = " ".join(core[1:]) if proper else None
    without_tail = " ".join(core) if has_tail else None
    if variant % 2 == 0:
        form = _acronym_of(core) or without_vendor or without_tail
    else:
        form = without_tail or without_vendor
    return form or example


# --- paraphrasing with a small hand-written thesaurus ------------------------------------------------

_VERB_SYNONYMS: dict[str, tuple[str, ...]] = {
    "maintain": ("keep up", "look after", "upkeep"),
    "prepare": ("draw up", "put together", "produce"),
    "perform": ("carry out", "do", "execute"),
    "provide": ("give", "offer", "supply"),
    "conduct": ("carry out", "run", "lead"),
    "monitor": ("track", "watch", "oversee"),
    "develop": ("build", "create", "work out"),
    "evaluate": ("assess", "appraise", "judge"),
    "review": ("go over", "check", "examine"),
    "analyze": ("study", "examine", "evaluate"),
    "inspect": ("check", "examine", "look over"),
    "confer": ("consult", "discuss", "talk"),
    "supervise": ("oversee", "manage", "lead"),
    "operate": ("run", "use", "work"),
    "coordinate": ("organize", "arrange", "manage"),
    "direct": ("lead", "manage", "guide"),
    "record": ("log", "document", "note"),
    "participate": ("take part", "join", "engage"),
    "examine": ("inspect", "check", "study"),
    "implement": ("put in place", "carry out", "apply"),
    "collaborate": ("work together", "cooperate", "team up"),
    "test": ("check", "try", "trial"),
    "write": ("draft", "compose", "author"),
    "determine": ("establish", "work out", "decide"),
    "advise": ("counsel", "guide", "recommend"),
    "read": ("interpret", "study", "review"),
    "adjust": ("tune", "set", "calibrate"),
    "remove": ("take off", "take out", "extract"),
    "keep": ("maintain", "hold", "retain"),
    "apply": ("use", "put on", "administer"),
    "install": ("fit", "set up", "mount"),
    "clean": ("wash", "clear", "tidy"),
    "repair": ("fix", "mend", "restore"),
    "identify": ("find", "recognize", "spot"),
    "assist": ("help", "support", "aid"),
    "recommend": ("suggest", "propose", "advise"),
    "interpret": ("read", "explain", "make sense of"),
    "observe": ("watch", "monitor", "note"),
    "design": ("plan", "devise", "lay out"),
    "grade": ("mark", "score", "assess"),
    "train": ("teach", "coach", "instruct"),
    "check": ("verify", "inspect", "test"),
    "study": ("examine", "analyze", "research"),
    "select": ("choose", "pick", "decide on"),
    "administer": ("manage", "run", "give"),
    "arrange": ("organize", "set up", "plan"),
    "attend": ("go to", "take part in", "join"),
    "verify": ("confirm", "check", "validate"),
    "serve": ("provide", "deliver", "attend to"),
    "instruct": ("teach", "train", "coach"),
    "assess": ("evaluate", "judge", "appraise"),
    "use": ("employ", "apply", "work with"),
    "document": ("record", "write up", "log"),
    "collect": ("gather", "obtain", "pick up"),
    "create": ("make", "build", "produce"),
    "measure": ("gauge", "quantify", "size"),
    "consult": ("confer", "talk", "liaise"),
    "obtain": ("get", "acquire", "gather"),
    "replace": ("swap", "change", "renew"),
    "communicate": ("talk", "liaise", "convey"),
    "deliver": ("hand over", "bring", "provide"),
    "manage": ("run", "handle", "oversee"),
    "explain": ("describe", "clarify", "set out"),
    "report": ("communicate", "present", "state"),
    "answer": ("respond to", "reply to", "handle"),
    "make": ("produce", "build", "create"),
    "teach": ("instruct", "train", "educate"),
    "compile": ("assemble", "gather", "collate"),
    "investigate": ("look into", "examine", "probe"),
    "revise": ("update", "amend", "rework"),
    "treat": ("care for", "handle", "attend to"),
    "cut": ("trim", "slice", "shape"),
    "establish": ("set up", "create", "found"),
    "modify": ("change", "alter", "adapt"),
    "plan": ("schedule", "organize", "map out"),
    "oversee": ("supervise", "manage", "run"),
    "move": ("shift", "transfer", "relocate"),
    "assemble": ("put together", "build", "fit together"),
    "contact": ("reach", "call", "get in touch with"),
    "inform": ("notify", "tell", "advise"),
    "interview": ("question", "talk to", "meet"),
    "present": ("show", "deliver", "give"),
    "counsel": ("advise", "guide", "support"),
    "estimate": ("gauge", "assess", "work out"),
    "position": ("place", "set", "align"),
    "calculate": ("compute", "work out", "figure"),
    "research": ("study", "investigate", "look into"),
    "respond": ("reply", "react", "answer"),
    "schedule": ("plan", "book", "arrange"),
    "order": ("purchase", "requisition", "buy"),
    "compute": ("calculate", "work out", "determine"),
    "control": ("regulate", "manage", "govern"),
    "update": ("revise", "refresh", "amend"),
    "resolve": ("solve", "settle", "fix"),
    "demonstrate": ("show", "present", "illustrate"),
    "mix": ("blend", "combine", "stir"),
    "negotiate": ("bargain", "agree", "settle"),
    "complete": ("finish", "fill in", "finalize"),
    "fill": ("load", "top up", "complete"),
    "connect": ("link", "join", "attach"),
    "process": ("handle", "treat", "work through"),
    "fabricate": ("build", "manufacture", "make"),
    "store": ("keep", "stock", "warehouse"),
    "transport": ("carry", "move", "ship"),
}
_WORD_SYNONYMS: dict[str, tuple[str, ...]] = {
    "equipment": ("machinery", "apparatus", "gear"),
    "materials": ("supplies", "stock", "resources"),
    "work": ("tasks", "jobs", "assignments"),
    "information": ("data", "details", "facts"),
    "data": ("information", "figures", "records"),
    "activities": ("operations", "tasks", "work"),
    "records": ("logs", "files", "documentation"),
    "reports": ("write-ups", "summaries", "accounts"),
    "procedures": ("processes", "methods", "routines"),
    "parts": ("components", "pieces", "units"),
    "patients": ("clients", "people in care", "cases"),
    "systems": ("installations", "setups", "networks"),
    "students": ("learners", "pupils", "trainees"),
    "programs": ("schemes", "plans", "initiatives"),
    "staff": ("employees", "personnel", "team"),
    "plans": ("schemes", "designs", "proposals"),
    "products": ("goods", "items", "output"),
    "machines": ("machinery", "equipment", "devices"),
    "supplies": ("stock", "materials", "provisions"),
    "clients": ("customers", "patrons", "users"),
    "customers": ("clients", "buyers", "patrons"),
    "personnel": ("staff", "employees", "workforce"),
    "tests": ("trials", "checks", "examinations"),
    "training": ("instruction", "coaching", "teaching"),
    "performance": ("results", "output", "effectiveness"),
    "maintenance": ("upkeep", "servicing", "care"),
    "problems": ("issues", "faults", "difficulties"),
    "treatment": ("therapy", "care", "remedy"),
    "duties": ("tasks", "responsibilities", "functions"),
    "services": ("support", "assistance", "offerings"),
    "production": ("manufacturing", "output", "fabrication"),
    "workers": ("staff", "employees", "laborers"),
    "orders": ("requests", "purchases", "instructions"),
    "operations": ("activities", "processes", "work"),
    "specifications": ("specs", "requirements", "standards"),
    "methods": ("techniques", "approaches", "ways"),
    "machine": ("device", "unit", "apparatus"),
    "laboratory": ("lab", "testing facility", "research lab"),
    "results": ("findings", "outcomes", "figures"),
    "administrative": ("office", "clerical", "management"),
    "management": ("administration", "oversight", "control"),
    "policies": ("rules", "guidelines", "regulations"),
    "quality": ("standard", "grade", "condition"),
    "conditions": ("state", "circumstances", "status"),
    "project": ("scheme", "assignment", "undertaking"),
    "curricula": ("syllabi", "courses", "programs"),
    "computer": ("PC", "workstation", "digital"),
    "tools": ("instruments", "implements", "utensils"),
    "components": ("parts", "elements", "modules"),
    "items": ("articles", "objects", "goods"),
    "safety": ("security", "protection", "health and safety"),
    "devices": ("instruments", "units", "gadgets"),
    "financial": ("fiscal", "monetary", "budgetary"),
    "meetings": ("sessions", "conferences", "gatherings"),
    "documents": ("paperwork", "files", "papers"),
    "schedules": ("timetables", "rosters", "calendars"),
    "samples": ("specimens", "test pieces", "swatches"),
    "repairs": ("fixes", "mending", "restoration"),
    "techniques": ("methods", "skills", "approaches"),
    "requirements": ("needs", "specifications", "demands"),
    "vehicles": ("cars", "trucks", "automobiles"),
    "blueprints": ("technical drawings", "plans", "schematics"),
    "instructions": ("directions", "guidelines", "orders"),
    "drawings": ("diagrams", "sketches", "plans"),
    "inventory": ("stock", "stock levels", "holdings"),
    "regulations": ("rules", "codes", "laws"),
    "construction": ("building", "assembly", "erection"),
    "hardware": ("physical equipment", "devices", "kit"),
    "complaints": ("grievances", "objections", "concerns"),
    "defective": ("faulty", "broken", "flawed"),
    "holes": ("openings", "bores", "apertures"),
    "dimensions": ("measurements", "sizes", "proportions"),
    "engines": ("motors", "power units", "drives"),
    "budgets": ("finances", "spending plans", "funds"),
    "valves": ("taps", "regulators", "stopcocks"),
    "medications": ("medicines", "drugs", "prescriptions"),
    "damaged": ("broken", "harmed", "faulty"),
    "accounts": ("ledgers", "books", "records"),
    "sales": ("selling", "retail", "commerce"),
    "employees": ("staff", "workers", "personnel"),
}


def _inflected_synonyms() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = dict(_WORD_SYNONYMS)
    for verb, alternatives in _VERB_SYNONYMS.items():
        out.setdefault(verb, alternatives)
        out.setdefault(
            gerund(verb),
            tuple(" ".join([gerund(a.split()[0]), *a.split()[1:]]) for a in alternatives),
        )
    return out


_SYNONYMS = _inflected_synonyms()


def paraphrase(text: str, rng: Any, rate: float = 0.8) -> str:
    """Replace words by synonyms from a small hand-written thesaurus (about 250 frequent O*NET task words),
    each with probability ``rate``: "Operating machine tools" -> "Running machinery tools". A word keeps
    its capital letter."""
    out: list[str] = []
    for word in text.split():
        core = word.strip(",.;:()")
        options = _SYNONYMS.get(core.lower())
        if options and rng.random() < rate:
            new = rng.choice(options)
            if core[:1].isupper():
                new = new[:1].upper() + new[1:]
            word = word.replace(core, new)
        out.append(word)
    return " ".join(out)
