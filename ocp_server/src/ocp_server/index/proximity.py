"""Term proximity: how much of a request's subject one window of a file's lines holds.

Each chunk stores, per term record, which tiles (`lexicon.TILE_LINES` lines) of its file's
lines hold the term (`lexicon.body_blob`); `subject_window` reads them for a query's
candidate files. Measured held out in 35 variants before shipping (`scripts/train_ranker.py`).
"""

from __future__ import annotations

import numpy as np

from ocp_server.index.arrays import Floats, Ints
from ocp_server.index.hits import Hits, reduce_add, reduce_all, reduce_max
from ocp_server.index.lexical import Snapshot
from ocp_server.index.lexicon import TILE_LINES

__all__ = ["subject_window"]

#: The subject terms a window weighs at most, the rarest first.
_WINDOW_TERMS = 64
_ONE = np.uint64(1)
#: A window's share of the weight is counted in steps of one part in this many.
_SHARE_STEPS = 1 << 14
_LOW_SIX = np.uint64(63)


def _tile_bytes(snap: Snapshot) -> Ints:
    """Per file: the bytes its tiles take in `subject_window`'s bit strings, 8 tiles a byte,
    with an empty tile before and after them (a window, a tile and one either side, about
    any of its tiles holds its own terms only, and no byte holds two files' tiles); computed
    on a snapshot's first search, not on each."""
    key = ("tile_bytes",)
    room = snap.derived.get(key)
    if room is None:
        tiles = (np.maximum(snap.file_lines.astype(np.int64), 1) - 1) // TILE_LINES + 1
        room = snap.derived[key] = (tiles + 2 + 7) // 8
    return room


def subject_window(snap: Snapshot, at: list[int], hits: Hits, weight: Floats, cand: Ints) -> Floats:
    """Per candidate file (`cand`, ascending): the largest share of `weight` (per query term,
    above 0 for the query's subject terms) that one window of lines holds: a tile
    (`lexicon.TILE_LINES` lines) and one either side, 9 lines, anywhere in the file, across its
    chunks' edges (windows of 6 to 9 lines ranked alike held out; scripts/train_ranker.py).
    `at`: per query term, where it is among `snap.chunk_body`'s keys (`Postings.locate`);
    `hits`: their postings there (`gather_all`), which the ranking has gathered already.

    Per term, a bit string over the candidates' tiles laid end to end, each posting's tile
    mask ORed in at its chunk's place; the strings widened by a tile either side; then byte
    by byte (8 tiles), the weight of its heaviest term near, and its best tile's sum where the
    terms near could together beat the best byte of its file; the maximum per file. Its cost
    follows the query's chunk postings, the candidates' lines and the places where terms
    meet."""
    out = np.zeros(len(cand))
    total = float(reduce_add(weight))
    if not snap.tiles_complete or not len(cand) or total <= 0:
        return out
    if len(weight) > _WINDOW_TERMS and np.count_nonzero(weight) > _WINDOW_TERMS:
        # the rarest only: a query of many terms
        top = np.zeros(len(weight), dtype=bool)
        top[np.argsort(-weight, kind="stable")[:_WINDOW_TERMS]] = True
        weight = np.where(top, weight, 0.0)
    subject = weight > 0
    # per posting: which candidate holds its chunk (-1: none); kept for a subject term's
    at_cand = np.empty(snap.n_files, dtype=np.intp)  # np.full: twice the calls
    at_cand.fill(-1)
    at_cand[cand] = np.arange(len(cand))
    which = at_cand.take(snap.chunk_file[hits.docs])  # take: indexing by int32 is slower
    inside = which >= 0
    if not reduce_all(subject | (hits.df == 0)):  # else every term found is the subject's
        inside &= subject[hits.term]
    keep = inside.nonzero()[0]
    if not len(keep):
        return out
    term, docs, which = hits.term[keep], hits.docs[keep], which[keep]
    # a posting's tile mask sits at its place in the table: where its term's postings begin
    # there, and its place among them
    sizes = hits.df.astype(np.intp)
    begin = snap.chunk_body.starts[at] - (sizes.cumsum() - sizes)
    mask = snap.chunk_tiles[keep + begin[term]]
    # the candidates' tiles end to end (`_tile_bytes`); a candidate none of the terms are in
    # takes a byte of empty tiles: its window is 0
    held = np.bincount(which, minlength=len(cand)) > 0
    room = np.where(held, _tile_bytes(snap)[cand], 1)
    ends = room.cumsum()
    edges = ends - room  # each file's first byte
    # a word to spare: a mask read from disk that reached past its file's lines (the indexer
    # writes none) must not index past the array
    n_words = int(ends[-1]) // 8 + 3
    first = (edges * 8 + 1)[which] + snap.chunk_first_tile[docs]  # after the empty tile
    word, shift = first >> 6, (first & 63).astype(np.uint64)
    # where each mask goes: ascending, as the postings are (term by term, chunks in file and
    # line order, the candidates laid out in file order), so the masks that meet in one word
    # are neighbours, ORed by one reduceat
    flat = ((subject.cumsum() - 1) * n_words)[term] + word  # a bit string per subject term
    head = np.empty(len(flat), dtype=bool)
    head[:1] = True
    np.not_equal(flat[1:], flat[:-1], out=head[1:])
    heads = head.nonzero()[0]
    at_word = flat[heads]
    strings = np.zeros((int(np.count_nonzero(subject)), n_words), dtype=np.uint64)
    flat_strings = strings.reshape(-1)
    flat_strings[at_word] = np.bitwise_or.reduceat(mask << shift, heads)
    # the bits a shift of up to 63 carries into the next word (>> 64 is undefined): few masks
    # reach past their word
    carry = (mask >> _ONE) >> (_LOW_SIX - shift)
    over = carry.nonzero()[0]
    np.bitwise_or.at(flat_strings, flat[over] + 1, carry[over])
    # a tile either side: the strings shifted by one bit each way, carrying across words
    wide = strings | (strings << _ONE) | (strings >> _ONE)
    wide[:, 1:] |= strings[:, :-1] >> _LOW_SIX
    wide[:, :-1] |= strings[:, 1:] << _LOW_SIX
    # weighed in integer steps of 1/_SHARE_STEPS, byte by byte (8 tiles)
    steps = np.rint(weight[subject] / total * _SHARE_STEPS).astype(np.uint16)
    by_byte = wide.astype("<u8", copy=False).view(np.uint8)  # (terms, bytes)
    weighed = (by_byte != 0) * steps[:, None]
    # a byte's best tile holds at least its heaviest term near, at most all of them: the
    # tiles themselves are summed only where that could beat the file's heaviest term
    best = reduce_max(weighed, axis=0)
    bound = np.maximum.reduceat(best, edges)
    room[-1] += by_byte.shape[1] - int(ends[-1])  # the spare words count as the last file's
    could = (reduce_add(weighed, axis=0, dtype=np.uint16) > bound.repeat(room)).nonzero()[0]
    if len(could):
        tiles = np.unpackbits(by_byte.take(could, axis=1), axis=1, bitorder="little")
        share = reduce_add(tiles * steps[:, None], axis=0, dtype=np.uint16)
        # a byte's 8 tiles side by side: halved three times, the odd tiles against the even
        # (a reduction over rows of 8, or a reduceat of one segment a byte, pays per row)
        pairs = np.maximum(share[0::2], share[1::2])
        pairs = np.maximum(pairs[0::2], pairs[1::2])
        best[could] = np.maximum(pairs[0::2], pairs[1::2])
        bound = np.maximum.reduceat(best, edges)
    return bound / _SHARE_STEPS
