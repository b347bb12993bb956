"""Open ZIP-based documents (DOCX, ODT, EPUB) without letting a ZIP bomb through.

    archive = open_zip(data, "DOCX")          # ExtractError when damaged or a bomb
    xml = read_member(archive, "word/document.xml", "DOCX")

The members' declared sizes are checked before anything is decompressed, and every
read is capped, so a member whose header lies about its size cannot blow memory
(zipfile itself also stops at the declared size and then fails the CRC check).
"""

from __future__ import annotations

import io
import zipfile
import zlib

from lxml import etree

from storage.formats import ExtractError

MB = 1_000_000
MAX_TOTAL_BYTES = 200 * MB  # all members together, as declared
MAX_RATIO = 100  # a member compressed more than this ...
RATIO_MIN_BYTES = 10 * MB  # ... and larger than this is refused
MAX_MEMBERS = 20_000

# No DTDs, no entities, no network: OOXML/ODF/EPUB never need them (XXE, billion laughs).
SAFE_XML = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
    remove_comments=True, remove_pis=True,
)


def _mb(size: int) -> str:
    return f"{size / MB:.0f}" if size >= 10 * MB else f"{size / MB:.1f}"


def open_zip(data: bytes, kind: str) -> zipfile.ZipFile:
    """The archive in `data`, checked for damage and for a ZIP bomb; `kind` names it in errors."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ExtractError(f"damaged {kind}: not a ZIP archive ({exc})") from exc
    except (OSError, ValueError, EOFError) as exc:
        raise ExtractError(f"damaged {kind}: {exc}") from exc
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ExtractError(f"{kind} has {len(infos)} ZIP members (limit {MAX_MEMBERS}): refused")
    total = sum(info.file_size for info in infos)
    if total > MAX_TOTAL_BYTES:
        raise ExtractError(
            f"{kind} expands to {_mb(total)} MB (limit {MAX_TOTAL_BYTES // MB} MB): "
            "refused as a possible ZIP bomb"
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_MIN_BYTES and ratio > MAX_RATIO:
            raise ExtractError(
                f"{kind} member {info.filename} expands {ratio:.0f}x to "
                f"{_mb(info.file_size)} MB: refused as a possible ZIP bomb"
            )
        if info.flag_bits & 0x1:
            raise ExtractError(f"encrypted {kind} (password needed)")
    return archive


def has_member(archive: zipfile.ZipFile, name: str) -> bool:
    """Whether the archive holds a member called `name`."""
    try:
        archive.getinfo(name)
    except KeyError:
        return False
    return True


def read_member(archive: zipfile.ZipFile, name: str, kind: str) -> bytes:
    """The bytes of member `name`, read with a cap; damage is an ExtractError."""
    info = archive.getinfo(name)
    cap = min(info.file_size, MAX_TOTAL_BYTES)
    try:
        with archive.open(info) as member:
            data = member.read(cap + 1)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError,
            NotImplementedError) as exc:
        raise ExtractError(f"damaged {kind}: {name}: {exc}") from exc
    if len(data) > cap:
        raise ExtractError(f"damaged {kind}: {name} is larger than its header says")
    return data


def parse_member(archive: zipfile.ZipFile, name: str, kind: str) -> etree._Element:
    """Member `name` parsed as XML with the safe parser."""
    data = read_member(archive, name, kind)
    try:
        root = etree.fromstring(data, SAFE_XML)
    except etree.XMLSyntaxError as exc:
        raise ExtractError(f"damaged {kind}: {name} is not well-formed XML ({exc})") from exc
    if root is None:
        raise ExtractError(f"damaged {kind}: {name} is empty")
    return root
