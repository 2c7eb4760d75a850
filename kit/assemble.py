"""Whole-course PDFs assembled from per-document PDFs, one part at a time.

Each session is its own document, numbered session-page ("3-4"), so sessions
render independently. The assembled PDF gets page labels that match the
printed numbers, one bookmark tree made of each part's bookmarks, one
structure tree (the tags that make it accessible) made of each part's, and the
named destinations of every part.

Assembling happens in two steps, so that memory does not grow with the course:

- `prepare(pdf)` (run by the worker that rendered the part, and cached with
  it) rewrites the part with qpdf (pikepdf) into numbered objects, each an
  object's PDF text and, for a stream, its raw (still compressed) data, plus a
  small index: which objects are the pages, the top bookmarks, the top
  structure element, the parent-tree entries. Links to named destinations are
  turned into explicit ones here, so two parts may use the same anchor name.
- `assemble(parts, out)` reads the indexes, numbers every part's objects into
  one range, then copies the parts into `out` one after another, renumbering
  references as it goes, and writes the joining objects (catalog, page tree,
  bookmark root, structure root, parent tree) and a cross-reference stream at
  the end. Only one part is in memory at a time.

The objects of a part that the whole document replaces (its catalog, page
tree, bookmark root, structure root and parent tree) are not copied;
references to them lead to the whole document's own.

Tables: WeasyPrint 70 ties header cells to data cells with /ID and /Headers
only (it reads HTML's `scope` to choose which, but writes no /Scope). `prepare`
gives every header cell a /Scope as well, and makes the identifiers of each part
its own, so that the whole document's identifiers stay unique; `assemble`
lists them in the structure root's /IDTree.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

MAGIC = b"KITPART2\n"
INHERITABLE = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")
PER_OBJECT_STREAM = 200  # objects packed (and compressed) together

# A reference, or a parent-tree key, in an object's PDF text as qpdf writes it.
# Strings are matched too, so that nothing inside a string is ever rewritten:
# qpdf escapes every parenthesis in a literal string and writes other bytes in hex.
TOKENS = re.compile(rb"\((?:[^\\()]|\\.)*\)|<[0-9A-Fa-f\s]*>"
                    rb"|(?<![\w./#-])(\d+) 0 R\b|(/StructParents?) (\d+)", re.S)


@dataclass(frozen=True)
class Part:
    prepared: bytes | Path  # what `prepare` made of the part's PDF (or the file that holds it)
    label_prefix: str     # "" for front matter (roman numerals), "3-" for session 3
    recto: bool = True    # start on a right-hand page
    digest: bytes = b""     # identifies the part (for the document's /ID)


# ---------------------------------------------------------------- prepare


def _flatten(tree, key: str) -> list:
    """The flat [key, value, key, value, ...] list of a PDF name or number tree."""
    items = list(tree.get(key, []))
    for kid in tree.get("/Kids", []):
        items += _flatten(kid, key)
    return items


def _named_destinations(pdf) -> dict:
    """Name (bytes) -> explicit destination (an array) of the document."""
    from pikepdf import Array, Dictionary

    found: dict = {}
    names = pdf.Root.get("/Names")
    tree = names.get("/Dests") if names is not None else None
    pairs = _flatten(tree, "/Names") if tree is not None else []
    legacy = pdf.Root.get("/Dests")
    if legacy is not None:
        for name, value in legacy.items():
            pairs += [name[1:].encode(), value]
    for name, value in zip(pairs[::2], pairs[1::2]):
        if isinstance(value, Dictionary):
            value = value.get("/D")
        if isinstance(value, Array):
            found.setdefault(bytes(name) if not isinstance(name, bytes) else name, value)
    return found


def _explicit(dest, named: dict):
    from pikepdf import Array, Name, String

    if isinstance(dest, (String, Name)):
        key = bytes(dest) if isinstance(dest, String) else str(dest)[1:].encode()
        return named.get(key)
    return dest if isinstance(dest, Array) else None


def _resolve_links(pdf, named: dict) -> None:
    """Links and bookmarks that name a destination point at it directly instead."""
    from pikepdf import Array, Name

    def fix(holder) -> None:
        if "/Dest" in holder:
            target = _explicit(holder.Dest, named)
            if target is not None:
                holder.Dest = target
        action = holder.get("/A")
        if action is not None and action.get("/S") == Name.GoTo and "/D" in action:
            target = _explicit(action.D, named)
            if target is not None:
                action.D = target

    for page in pdf.pages:
        for annot in page.obj.get("/Annots", Array()):
            fix(annot)
    outlines = pdf.Root.get("/Outlines")
    stack = [outlines.get("/First")] if outlines is not None else []
    seen = set()
    while stack:
        item = stack.pop()
        if item is None or item.objgen in seen:
            continue
        seen.add(item.objgen)
        fix(item)
        stack += [item.get("/First"), item.get("/Next")]


def _attributes(element) -> list:
    """The element's attribute dictionaries (/A holds one, or an array of them)."""
    from pikepdf import Dictionary

    return [a for a in _as_list(element.get("/A")) if isinstance(a, Dictionary)]


def _table_attributes(element):
    """The element's attribute dictionary owned by /Table (added when it has none)."""
    from pikepdf import Array, Dictionary, Name

    for attributes in _attributes(element):
        if attributes.get("/O") == Name.Table:
            return attributes
    current = element.get("/A")
    added = Dictionary(O=Name.Table)
    if current is None:
        element.A = added
    elif isinstance(current, Array):
        current.append(added)
    else:
        element.A = Array([current, added])
    return _table_attributes(element)


def scope_table_headers(pdf) -> int:
    """Give every header cell (/TH) of `pdf`'s structure tree a /Scope; returns how many there are.

    PDF/UA-1 (ISO 14289-1, 7.5) asks for /Scope on header cells whenever /Headers and /IDs
    do not settle which cells a header covers; WeasyPrint 70 writes only those. The scope
    follows WeasyPrint's own association: a header named in the /Headers of a data cell of
    its own row is a row header (HTML `scope="row"`), any other a column header. A /Scope
    already present is kept.
    """
    from pikepdf import Dictionary, Name

    cells = [obj for obj in pdf.objects
             if isinstance(obj, Dictionary) and obj.get("/S") in (Name.TH, Name.TD) and "/P" in obj]
    named_in_row = set()  # (row, identifier) of the headers that a cell of the same row names
    for cell in cells:
        for attributes in _attributes(cell):
            for ident in _as_list(attributes.get("/Headers")):
                named_in_row.add((cell.P.objgen, bytes(ident)))
    headers = [cell for cell in cells if cell.S == Name.TH]
    for cell in headers:
        attributes = _table_attributes(cell)
        if "/Scope" not in attributes:
            row = "/ID" in cell and (cell.P.objgen, bytes(cell.ID)) in named_in_row
            attributes.Scope = Name.Row if row else Name.Column
    return len(headers)


def _own_identifiers(pdf, prefix: bytes) -> None:
    """Prefix every structure element identifier (/ID), and every /Headers entry that names
    one, so that no two parts of a whole document share an identifier. (WeasyPrint numbers
    them after a table's object number, which every part starts again from 1.)"""
    from pikepdf import Array, Dictionary, String

    for obj in pdf.objects:
        if not isinstance(obj, Dictionary) or "/S" not in obj or "/P" not in obj:
            continue
        if "/ID" in obj:
            obj.ID = String(prefix + bytes(obj.ID))
        for attributes in _attributes(obj):
            if "/Headers" in attributes:
                attributes.Headers = Array([String(prefix + bytes(i)) for i in _as_list(attributes.Headers)])


def finish(data: bytes) -> bytes:
    """A rendered PDF as it is shipped on its own (a session's guide or worksheet): every
    header cell scoped, and the structure root's /IDTree listing the elements that carry
    an /ID (ISO 32000-1, 14.7.2, asks for it; WeasyPrint 70 writes neither). A PDF without
    tables comes back unchanged. The file ID is kept, so the bytes stay reproducible."""
    import pikepdf
    from pikepdf import Array, Dictionary, String

    with pikepdf.open(io.BytesIO(data)) as pdf:
        tree = pdf.Root.get("/StructTreeRoot")
        if tree is None or not scope_table_headers(pdf):
            return data
        idents = sorted((bytes(obj.ID), obj) for obj in pdf.objects
                        if isinstance(obj, Dictionary) and "/ID" in obj and "/S" in obj and "/P" in obj)
        names = Array()
        for ident, obj in idents:
            names.extend([String(ident), obj])
        tree.IDTree = pdf.make_indirect(Dictionary(Names=names))
        out = io.BytesIO()
        pdf.save(out, deterministic_id=True, fix_metadata_version=False,
                 object_stream_mode=pikepdf.ObjectStreamMode.preserve)
        return out.getvalue()


def prepare(data: bytes) -> bytes:
    """A part's PDF as numbered objects and an index, ready for `assemble`."""
    import pikepdf
    from pikepdf import Name

    with pikepdf.open(io.BytesIO(data)) as src:
        named = _named_destinations(src)
        _resolve_links(src, named)
        for page in src.pages:  # every page says all it needs: nothing inherited from its tree
            for key in INHERITABLE:
                if key not in page.obj:
                    inherited = _inherited(page.obj, key)
                    if inherited is not None:
                        page.obj[key] = inherited
        tree = src.Root.get("/StructTreeRoot")
        if tree is not None:
            scope_table_headers(src)
            _own_identifiers(src, hashlib.sha256(data).hexdigest()[:12].encode() + b"-")
            for kid in _as_list(tree.get("/K")):
                if isinstance(kid, pikepdf.Dictionary) and kid.get("/S") == Name.Document:
                    kid.S = Name.Part  # each part is a part of the whole document
        clean = io.BytesIO()
        src.save(clean, object_stream_mode=pikepdf.ObjectStreamMode.disable,
                 stream_decode_level=pikepdf.StreamDecodeLevel.none, compress_streams=False,
                 static_id=True, fix_metadata_version=False, preserve_pdfa=False)
    with pikepdf.open(clean) as pdf:  # numbered afresh: the destinations are read again
        return _serialise(pdf, {k: bytes(v.unparse(resolved=True)) for k, v in _named_destinations(pdf).items()})


def _inherited(page, key: str):
    node = page.get("/Parent")
    seen = 0
    while node is not None and seen < 64:
        if key in node:
            return node[key]
        node, seen = node.get("/Parent"), seen + 1
    return None


def _as_list(value) -> list:
    from pikepdf import Array

    if value is None:
        return []
    return list(value) if isinstance(value, Array) else [value]


def _num(obj) -> int:
    return obj.objgen[0]


def _serialise(pdf, named: dict) -> bytes:
    import pikepdf

    root = pdf.Root
    skip = {_num(root)}
    if "/Info" in pdf.trailer and pdf.trailer.Info.is_indirect:
        skip.add(_num(pdf.trailer.Info))
    pages = [_num(p.obj) for p in pdf.pages]
    nodes = []  # the page tree's own nodes
    stack = [root.Pages]
    while stack:
        node = stack.pop()
        if node.get("/Type") == pikepdf.Name.Pages and node.is_indirect and _num(node) not in nodes:
            nodes.append(_num(node))
            stack += list(node.get("/Kids", []))
    skip.update(nodes)
    names = root.get("/Names")
    stack = [names, names.get("/Dests")] if names is not None else []
    stack.append(root.get("/Dests"))
    while stack:  # the named destinations are listed in the index, and joined in one tree
        node = stack.pop()
        if node is not None and node.is_indirect and _num(node) not in skip:
            skip.add(_num(node))
            stack += list(node.get("/Kids", []))
    index: dict[str, Any] = {"pages": pages, "map": {"pages": nodes}, "outline": None, "struct": None,
             "dests": [[name.hex(), text.decode("latin-1")] for name, text in sorted(named.items())],
             "metadata": None, "size": None}
    box = pdf.pages[-1].obj.get("/MediaBox") if pages else None
    index["size"] = [float(box[2]) - float(box[0]), float(box[3]) - float(box[1])] if box is not None else None
    outlines = root.get("/Outlines")
    if outlines is not None and "/First" in outlines:
        skip.add(_num(outlines))
        index["map"]["outlines"] = [_num(outlines)]
        index["outline"] = {"first": _num(outlines.First), "last": _num(outlines.Last),
                            "count": int(outlines.get("/Count", 0))}
    tree = root.get("/StructTreeRoot")
    if tree is not None:
        skip.add(_num(tree))
        index["map"]["struct"] = [_num(tree)]
        nums: list[list[Any]] = []
        if "/ParentTree" in tree:
            parent_tree = tree.ParentTree
            stack = [parent_tree]
            while stack:  # the number tree's nodes are replaced by one for the whole document
                node = stack.pop()
                if node.is_indirect:
                    skip.add(_num(node))
                stack += list(node.get("/Kids", []))
            flat = _flatten(parent_tree, "/Nums")
            nums = [[int(k), bytes(v.unparse(resolved=False) if v.is_indirect else v.unparse(resolved=True))
                     .decode("latin-1")] for k, v in zip(flat[::2], flat[1::2])]
        kids = tree.get("/K")
        ids: list[list] = [[bytes(obj.ID).hex(), _num(obj)] for obj in pdf.objects  # for the /IDTree
                           if isinstance(obj, pikepdf.Dictionary) and "/ID" in obj and "/S" in obj and "/P" in obj]
        index["struct"] = {
            "kids": [bytes(k.unparse(resolved=not k.is_indirect)).decode("latin-1") for k in _as_list(kids)],
            "nums": nums,
            "next": max([int(tree.get("/ParentTreeNextKey", 0))] + [k + 1 for k, _ in nums]),
            "roles": {str(k): bytes(v.unparse(resolved=True)).decode("latin-1")
                      for k, v in tree.get("/RoleMap", pikepdf.Dictionary()).items()},
            "ids": ids,
        }
    if "/Metadata" in root and root.Metadata.is_indirect:
        index["metadata"] = _num(root.Metadata)
    objects, blobs = [], []
    for obj in pdf.objects:
        number = _num(obj)
        if number in skip:
            continue
        if isinstance(obj, pikepdf.Stream):
            text, raw = bytes(obj.stream_dict.unparse(resolved=True)), obj.read_raw_bytes()
        else:
            text, raw = bytes(obj.unparse(resolved=True)), None
        objects.append([number, len(text), -1 if raw is None else len(raw)])
        blobs.append(text)
        if raw is not None:
            blobs.append(raw)
    index["objects"] = objects
    head = json.dumps(index, separators=(",", ":")).encode()
    return b"".join([MAGIC, struct.pack(">I", len(head)), head] + blobs)


def read_index(prepared: bytes | Path) -> tuple[dict, int]:
    """A prepared part's index, and where its objects start (reading no more than that)."""
    if isinstance(prepared, Path):
        with open(prepared, "rb") as handle:
            head = handle.read(len(MAGIC) + 4)
            index, start = _index(head + handle.read(_index_size(head)))
        return index, start
    return _index(prepared)


def _index_size(head: bytes) -> int:
    if not head.startswith(MAGIC) or len(head) < len(MAGIC) + 4:
        raise ValueError("not a prepared part")
    return struct.unpack(">I", head[len(MAGIC):len(MAGIC) + 4])[0]


def _index(data: bytes) -> tuple[dict, int]:
    start = len(MAGIC) + 4
    size = _index_size(data[:start])
    return json.loads(data[start:start + size]), start + size


# ---------------------------------------------------------------- assemble


def pdf_string(text: str) -> bytes:
    """A PDF text string: literal when plain ASCII, else UTF-16 with a byte-order mark, in hex."""
    if all(32 <= ord(c) < 127 for c in text):
        return b"(" + text.encode("ascii").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"
    return b"<feff" + text.encode("utf-16-be").hex().encode() + b">"


def _real(value: float) -> bytes:
    return (b"%.4f" % value).rstrip(b"0").rstrip(b".")


class _Writer:
    """Writes numbered objects to `out`, packing plain objects into compressed object streams."""

    def __init__(self, out: BinaryIO, first_free: int):
        self.out = out
        self.offset = 0
        self.where: dict[int, tuple] = {}  # number -> (1, offset) | (2, stream number, index)
        self.batch: list[tuple[int, bytes]] = []
        self.next_number = first_free
        self._write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.offset += len(data)

    def plain(self, number: int, text: bytes) -> None:
        self.batch.append((number, text))
        if len(self.batch) >= PER_OBJECT_STREAM:
            self.flush()

    def stream(self, number: int, text: bytes, raw: bytes) -> None:
        self.where[number] = (1, self.offset)
        self._write(b"%d 0 obj\n%s\nstream\n" % (number, text))
        self._write(raw)
        self._write(b"\nendstream\nendobj\n")

    def flush(self) -> None:
        if not self.batch:
            return
        number = self.next_number
        self.next_number += 1
        heads, bodies, position = [], [], 0
        for index, (obj, text) in enumerate(self.batch):
            heads.append(b"%d %d" % (obj, position))
            bodies.append(text)
            position += len(text) + 1
            self.where[obj] = (2, number, index)
        head = b" ".join(heads) + b"\n"
        data = zlib.compress(head + b"\n".join(bodies) + b"\n", 6)
        self.batch = []
        self.stream(number, b"<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>"
                    % (len(heads), len(head), len(data)), data)

    def finish(self, trailer: bytes) -> None:
        self.flush()
        number = self.next_number
        size = number + 1
        rows = [struct.pack(">BIH", 0, 0, 65535)]
        for obj in range(1, size):
            entry = self.where.get(obj)
            if obj == number:
                entry = (1, self.offset)
            if entry is None:
                rows.append(struct.pack(">BIH", 0, 0, 0))
            elif entry[0] == 1:
                rows.append(struct.pack(">BIH", 1, entry[1], 0))
            else:
                rows.append(struct.pack(">BIH", 2, entry[1], entry[2]))
        data = zlib.compress(b"".join(rows), 6)
        start = self.offset
        self._write(b"%d 0 obj\n<< /Type /XRef /Size %d /W [ 1 4 2 ] %s /Filter /FlateDecode /Length %d >>\n"
                    b"stream\n" % (number, size, trailer, len(data)))
        self._write(data)
        self._write(b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % start)


# The whole document's own objects.
CATALOG, PAGES, OUTLINES, STRUCT_ROOT, DOCUMENT, PARENT_TREE, INFO, DESTS = range(1, 9)
FIRST_PART_OBJECT = 9


def assemble(parts: list[Part], title: str, lang: str, out: BinaryIO) -> None:
    """Write the whole document made of `parts` to `out`."""
    indexes = [read_index(p.prepared) for p in parts]
    number = FIRST_PART_OBJECT
    page_refs: list[int] = []
    labels: list[bytes] = []
    plans = []
    last_size = None
    for part, (index, _) in zip(parts, indexes):
        blank = None
        if part.recto and len(page_refs) % 2 == 1:
            blank = number
            number += 1
            page_refs.append(blank)
        renumber = {}
        for local, _, _ in index["objects"]:
            renumber[local] = number
            number += 1
        start = len(page_refs)
        page_refs += [renumber[p] for p in index["pages"]]
        labels.append(b"%d << /S /D /P %s /St 1 >>" % (start, pdf_string(part.label_prefix))
                      if part.label_prefix else b"%d << /S /r /St 1 >>" % start)
        plans.append((blank, last_size, renumber))
        last_size = index["size"] or last_size
    # Bookmarks: each part's top items become siblings under one root, chained across parts.
    tops = [(i, renumber[index["outline"]["first"]], renumber[index["outline"]["last"]], index["outline"])
            for i, ((index, _), (_, _, renumber)) in enumerate(zip(indexes, plans)) if index["outline"]]
    patches: dict[tuple[int, int], bytes] = {}  # (part, object) -> entries added to its dictionary
    for (i, _, last, here), (j, first, _, there) in zip(tops, tops[1:]):
        patches[i, here["last"]] = patches.get((i, here["last"]), b"") + b" /Next %d 0 R" % first
        patches[j, there["first"]] = patches.get((j, there["first"]), b"") + b" /Prev %d 0 R" % last
    writer = _Writer(out, number)
    struct_kids: list[bytes] = []
    nums: list[bytes] = []
    roles: dict[str, str] = {}
    dests: dict[bytes, bytes] = {}
    idents: dict[bytes, int] = {}  # structure element identifier -> its object, for the /IDTree
    key_offset = 0
    front = indexes[0][0]["metadata"] if parts else None  # the whole document keeps the front matter's XMP
    metadata = plans[0][2][front] if front is not None else None
    for i, (part, (index, body), (blank, size, renumber)) in enumerate(zip(parts, indexes, plans)):
        if blank is not None:
            width, height = size or (595.2756, 841.8898)
            writer.plain(blank, b"<< /Type /Page /Parent %d 0 R /MediaBox [ 0 0 %s %s ] /Resources << >> >>"
                         % (PAGES, _real(width), _real(height)))
        targets = dict(renumber)
        for role, own in (("pages", PAGES), ("outlines", OUTLINES), ("struct", DOCUMENT)):
            for local in index["map"].get(role, []):
                targets[local] = own
        offset = key_offset

        def fix(match, targets=targets, offset=offset) -> bytes:
            if match.group(1) is not None:
                target = targets.get(int(match.group(1)))
                return b"null" if target is None else b"%d 0 R" % target
            if match.group(2) is not None:
                return b"%s %d" % (match.group(2), int(match.group(3)) + offset)
            return match.group(0)

        position = body
        data = part.prepared.read_bytes() if isinstance(part.prepared, Path) else part.prepared
        for local, text_size, raw_size in index["objects"]:
            text = data[position:position + text_size]
            position += text_size
            if local == index["metadata"] and i > 0:  # another part's XMP: not copied
                position += max(raw_size, 0)
                continue
            text = TOKENS.sub(fix, text)
            extra = patches.get((i, local))
            if extra:
                text = b"<<" + extra + text[2:]
            if raw_size >= 0:
                writer.stream(renumber[local], text, data[position:position + raw_size])
                position += raw_size
            else:
                writer.plain(renumber[local], text)
        struct_index = index["struct"]
        if struct_index:
            struct_kids += [TOKENS.sub(fix, k.encode("latin-1")) for k in struct_index["kids"]]
            nums += [b"%d %s" % (key + offset, TOKENS.sub(fix, value.encode("latin-1")))
                     for key, value in struct_index["nums"]]
            key_offset = offset + struct_index["next"]
            for name, role in struct_index["roles"].items():
                roles.setdefault(name, role)
            for ident, local in struct_index.get("ids", []):
                if local in renumber:
                    idents.setdefault(bytes.fromhex(ident), renumber[local])
        for name, dest in index["dests"]:
            dests.setdefault(bytes.fromhex(name), TOKENS.sub(fix, dest.encode("latin-1")))
    writer.plain(PAGES, b"<< /Type /Pages /Kids [ %s ] /Count %d >>"
                 % (b" ".join(b"%d 0 R" % p for p in page_refs), len(page_refs)))
    if tops:
        writer.plain(OUTLINES, b"<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count %d >>"
                     % (tops[0][1], tops[-1][2], sum(t[3]["count"] for t in tops)))
    writer.plain(STRUCT_ROOT, b"<< /Type /StructTreeRoot /K [ %d 0 R ] /ParentTree %d 0 R "
                 b"/ParentTreeNextKey %d%s%s >>"
                 % (DOCUMENT, PARENT_TREE, key_offset,
                    b" /RoleMap << %s >>" % b" ".join(k.encode() + b" " + v.encode("latin-1")
                                                      for k, v in sorted(roles.items())) if roles else b"",
                    b" /IDTree << /Names [ %s ] >>" % b" ".join(b"<%s> %d 0 R" % (k.hex().encode(), v)
                                                             for k, v in sorted(idents.items())) if idents else b""))
    writer.plain(DOCUMENT, b"<< /Type /StructElem /S /Document /P %d 0 R /K [ %s ] >>"
                 % (STRUCT_ROOT, b" ".join(struct_kids)))
    writer.plain(PARENT_TREE, b"<< /Nums [ %s ] >>" % b" ".join(nums))
    writer.plain(INFO, b"<< /Title %s /Producer (Facilitator Kit) >>" % pdf_string(title))
    if dests:
        writer.plain(DESTS, b"<< /Names [ %s ] >>"
                     % b" ".join(b"<%s> %s" % (name.hex().encode(), dest) for name, dest in sorted(dests.items())))
    catalog = [b"/Type /Catalog", b"/Pages %d 0 R" % PAGES, b"/StructTreeRoot %d 0 R" % STRUCT_ROOT,
               b"/MarkInfo << /Marked true >>", b"/Lang " + pdf_string(lang),
               b"/PageLabels << /Nums [ %s ] >>" % b" ".join(labels),
               b"/ViewerPreferences << /DisplayDocTitle true >>"]
    if tops:
        catalog.append(b"/Outlines %d 0 R" % OUTLINES)
    if dests:
        catalog.append(b"/Names << /Dests %d 0 R >>" % DESTS)
    if metadata is not None:
        catalog.append(b"/Metadata %d 0 R" % metadata)
    writer.plain(CATALOG, b"<< " + b" ".join(catalog) + b" >>")
    ident = hashlib.md5(b"".join(p.digest for p in parts)).hexdigest()
    writer.finish(b"/Root %d 0 R /Info %d 0 R /ID [ <%s> <%s> ]" % (CATALOG, INFO, ident.encode(), ident.encode()))
