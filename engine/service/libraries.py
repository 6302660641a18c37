"""An organisation's own methodology library: its files kept in the database, checked as
``ccf check`` checks a project's, and the library its requests and runs use.

An organisation uploads the folders of a project (``methodologies/<id>/<version>.yaml``,
``factor_sets/<id>.yaml``: a zip, or a factor set's declaration with ``POST /factor-sets``).
They are stored in ``ccf.library_file`` (migration 0029), one row per file with its SHA-256,
under row-level security: read and written through the organisation's own connection only. Its
library is the shipped one with its files added, as a project's folders are added
(``dsl/library.py``: an id the shipped library has is refused); another organisation's files
are not in it, so their methodologies and factor sets are, to it, ones nobody has. A published
methodology version is never changed (the migration's trigger); a draft may be replaced.

The files are written to a folder of this process, one per organisation and content, and read
from there by ``Library.load``; a library is kept while the organisation's files are the same.
Problems are reported with the file's path in the organisation's project, never the folder's.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlglot import exp

from ccf.dsl.diagnostics import CcfError, Diagnostic, DiagnosticError
from ccf.dsl.library import Folders, Library
from ccf.engine.service.orgs import Org
from ccf.engine.sql import Executor, column, ident, param, table

METHODOLOGIES, FACTOR_SETS = "methodologies", "factor_sets"
# what a library holds: a methodology version, or a factor set's declaration
VERSION_PATH = re.compile(r"methodologies/([A-Za-z0-9][A-Za-z0-9._-]*)/([A-Za-z0-9][A-Za-z0-9._+-]*)\.yaml")
DECLARATION_PATH = re.compile(r"factor_sets/([A-Za-z0-9][A-Za-z0-9._-]*)\.yaml")
ACTIVITY_TYPES = "methodologies/activity_types/"
MAX_FILES, MAX_BYTES = 2000, 20 << 20  # an upload's files, and their size unpacked


class LibraryProblem(CcfError):
    """An upload that cannot be stored: what is wrong, and the status it answers with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class LibraryDiagnostics(DiagnosticError):
    """Problems of an organisation's files, with the library they were found in (for their paths)."""

    def __init__(self, library: "OrgLibrary", diagnostics: list[Diagnostic]):
        super().__init__(diagnostics)
        self.library = library


@dataclass(frozen=True)
class OrgLibrary:
    """An organisation's library: shipped and own, checked; where its own files were written (to
    say a file's path as the organisation's project has it); and its own files' paths."""

    library: Library
    folder: Path
    own: frozenset[str]  # the paths of its own files, as stored

    def path_of(self, path: str) -> str:
        """A library file's path as its organisation knows it (its own) or as shipped."""
        p = Path(path)
        if p.is_relative_to(self.folder):
            return str(p.relative_to(self.folder))
        for root in self.library.roots:
            if p.is_relative_to(root):
                return str(Path(root.name) / p.relative_to(root))
        return p.name

    def is_own(self, methodology) -> bool:
        return Path(methodology.path).is_relative_to(self.folder)

    def said(self, text: str) -> str:
        """A message with this library's folder left out of every path."""
        return text.replace(f"{self.folder}/", "")


def stored_files(conn: psycopg.Connection) -> dict[str, tuple[str, str, bool]]:
    """The organisation's library files (``conn``: its connection): path to text, SHA-256, published."""
    rows = Executor(conn).rows(exp.select(column("path"), column("text"), column("sha256"), column("published"))
                               .from_(table("library_file")).order_by(column("path")))
    return {p: (t, h, pub) for p, t, h, pub in rows}


class Libraries:
    """The libraries of organisations, kept per organisation while its files are the same (a
    library takes about a second to check), in a folder of this process removed with it."""

    def __init__(self, shipped: Library):
        self.shipped = shipped
        self._folder = tempfile.TemporaryDirectory(prefix="ccf-libraries-")
        self._kept: dict[tuple[int, str], OrgLibrary] = {}
        self._lock = threading.Lock()

    def of(self, conn: psycopg.Connection, org: Org | None) -> OrgLibrary | None:
        """The library of ``org``, read through its connection ``conn``; None for no organisation,
        or one with no files of its own (then the shipped library is its). The files' texts are
        read only when the library is not kept already (their paths and hashes say which)."""
        if org is None:
            return None
        ex = Executor(conn)
        hashes = dict(ex.rows(exp.select(column("path"), column("sha256")).from_(table("library_file"))))
        if not hashes:
            conn.rollback()
            return None
        kept = self._kept.get((org.id, _digest(hashes)))
        if kept is None:
            kept = self.build(org, {p: t for p, (t, _, _) in stored_files(conn).items()})
        conn.rollback()
        return kept

    def build(self, org: Org, files: dict[str, str]) -> OrgLibrary:
        """The shipped library with ``files`` (path: text) added as the organisation's own. Only
        the organisation's latest library is kept: an upload replaces the one before."""
        digest = _digest({p: _sha256(t) for p, t in files.items()})
        with self._lock:
            kept = self._kept.get((org.id, digest))
            if kept is not None:
                return kept
            folder = Path(self._folder.name) / f"{org.id}-{digest[:24]}"
            for path, text in files.items():
                target = folder / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, "utf-8")
            (folder / METHODOLOGIES).mkdir(parents=True, exist_ok=True)
            (folder / FACTOR_SETS).mkdir(parents=True, exist_ok=True)
            lib = Library.load(self.shipped.root, self.shipped.factor_sets,
                               (Folders(folder / METHODOLOGIES, folder / FACTOR_SETS),))
            for key in [k for k in self._kept if k[0] == org.id]:  # its sources are in memory: the folder may go
                shutil.rmtree(self._kept.pop(key).folder, ignore_errors=True)
            kept = self._kept[(org.id, digest)] = OrgLibrary(lib, folder, frozenset(files))
            return kept


def _digest(hashes: dict[str, str]) -> str:
    """One hash of a library's files: their paths and SHA-256s."""
    return hashlib.sha256("\0".join(f"{p}\0{h}" for p, h in sorted(hashes.items())).encode("utf-8")).hexdigest()


def unpack(data: bytes) -> tuple[dict[str, str], list[str]]:
    """The library files of a zip of a project's folders (``methodologies/``, ``factor_sets/``,
    at its top or under one folder, as ``zip -r lib.zip myproject`` makes it): path to text; and
    the entries left out (a methodology's test cases, anything else)."""
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise LibraryProblem("the file is not a zip archive (zip -r library.zip methodologies factor_sets)") from None
    entries = [i for i in book.infolist() if not i.is_dir()]
    if len(entries) > MAX_FILES or sum(i.file_size for i in entries) > MAX_BYTES:
        raise LibraryProblem(f"the archive holds more than {MAX_FILES} files or {MAX_BYTES >> 20} MB unpacked")
    names = [i.filename for i in entries]
    top = {n.split("/", 1)[0] for n in names if "/" in n}
    prefix = ""
    if not top & {METHODOLOGIES, FACTOR_SETS} and len(top) == 1:  # a project's folder around them
        prefix = f"{next(iter(top))}/"
    files: dict[str, str] = {}
    left_out = []
    for info in entries:
        path = info.filename[len(prefix):] if info.filename.startswith(prefix) else info.filename
        if path.startswith(ACTIVITY_TYPES):
            raise LibraryProblem(f"{path}: an organisation's library cannot declare activity types (their tables are "
                                 "shared by every organisation of the database); use the shipped ones (GET /methodologies)")
        if not (VERSION_PATH.fullmatch(path) or DECLARATION_PATH.fullmatch(path)):
            left_out.append(path)
            continue
        try:
            files[path] = book.read(info).decode("utf-8")
        except UnicodeDecodeError:
            raise LibraryProblem(f"{path}: not UTF-8 text") from None
    if not files:
        raise LibraryProblem("the archive holds no methodology version (methodologies/<id>/<version>.yaml) and no "
                             "factor-set declaration (factor_sets/<id>.yaml)")
    return files, left_out


def problems_in(lib: OrgLibrary) -> list[Diagnostic]:
    """The diagnostics of the organisation's own files (the shipped ones' are not its to fix)."""
    return [d for d in lib.library.diagnostics if Path(d.span.path).is_relative_to(lib.folder)]


def problem_document(lib: OrgLibrary, diagnostics: list[Diagnostic]) -> tuple[str, list[dict]]:
    """``ccf check``'s rendering of the diagnostics, and each as an error with its file, line and
    column in the organisation's project."""
    from ccf.dsl.diagnostics import dedupe, render

    text = lib.said(render(diagnostics, dict(lib.library.sources)))
    errors = [{"field": "file", "file": lib.path_of(d.span.path), "line": d.span.line, "column": d.span.column,
               "code": d.code, "message": d.message} for d in dedupe(diagnostics)]
    return text, errors


def store(conn: psycopg.Connection, libraries: Libraries, org: Org, files: dict[str, str]) -> OrgLibrary:
    """Add (or replace) the organisation's files, after checking its whole library with them:
    a problem in any of its files, or a change to a published version, stores nothing. In the
    caller's transaction, which it leaves open (``conn``: the organisation's connection)."""
    stored = stored_files(conn)
    for path, text in files.items():
        have = stored.get(path)
        if have is not None and have[2] and have[1] != _sha256(text):
            raise LibraryProblem(f"{path} is a published methodology version and cannot be changed; "
                                 "publish a new version", 409)
    merged = {p: t for p, (t, _, _) in stored.items()} | files
    lib = libraries.build(org, merged)
    diagnostics = problems_in(lib)
    if diagnostics:
        raise LibraryDiagnostics(lib, diagnostics)
    published = {lib.path_of(m.path) for m in lib.library.versions() if lib.is_own(m) and m.status == "published"}
    ex = Executor(conn)
    cols = ("path", "text", "sha256", "published")
    for path, text in sorted(files.items()):
        if path in stored and stored[path][1] == _sha256(text):
            continue  # the same file again
        insert = exp.insert(exp.select(*[param(c) for c in cols]),
                            exp.Schema(this=table("library_file"), expressions=[ident(c) for c in cols]))
        insert.set("conflict", exp.OnConflict(
            conflict_keys=[ident("org_id"), ident("path")],
            action=exp.var("DO UPDATE"),
            expressions=[exp.EQ(this=column(c), expression=column(c, "excluded")) for c in ("text", "sha256", "published")]))
        ex.execute(insert, {"path": path, "text": text, "sha256": _sha256(text), "published": path in published})
    return lib


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
