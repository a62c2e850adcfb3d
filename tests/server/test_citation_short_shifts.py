"""A short cited block (under MIN_LOOSE_BLOCK characters: an import, a constant) shifted
within its own file, by lines added above it, is followed when it is at one place only in
the file now; it was stale ("lines 4-4 changed") though the very line sat three lines down.
Found at several places, it is the one whose lines around it (the nearest above and below
that are not blank) are those it had when saved (m048); when none or several are, or for one
saved before they were kept, which one it is would be a guess: it stays stale."""

from __future__ import annotations

import hashlib

from ocp_router.redact import named_values, redact
from tests.server.citations import IN_LOAD, Repo, followed

CONFIG = "import os\n\n\nTIMEOUT = 10\n\n\ndef load():\n    return os.environ\n"
HEADER = "# a new header\n# added by a refactor\n\n"
TEN_S = "timeouts are 10 s"
AFTER_PATH = "x is set again after PATH"


async def _cite_timeout(repo: Repo, text: str) -> None:
    await repo.cite("src/config.py", text, "src/config.py:4-4", title="Timeout", decision=TEN_S)


async def test_a_short_block_shifted_in_its_file_is_followed_to_its_one_place(
    repo: Repo,
) -> None:
    await _cite_timeout(repo, CONFIG)
    cited = followed(await repo.rewritten("src/config.py", HEADER + CONFIG))
    assert (cited.status, cited.citation, cited.moved_from) == (
        "moved",
        "src/config.py:7-7",
        "src/config.py:4-4",
    )


TWICE = CONFIG + "\n\nclass Slow:\n    TIMEOUT = 10\n"


async def _stays_stale(repo: Repo) -> None:
    """Indexed as it is now, the citation of src/config.py:4-4 is stale there."""
    brief = await repo.reindexed()
    assert brief.decisions == ()
    (stale,) = brief.stale
    assert stale.citations[0].status == "stale"
    assert stale.citations[0].citation == "src/config.py:4-4"


async def test_a_short_block_found_twice_in_its_file_is_followed_by_the_lines_around_it(
    repo: Repo,
) -> None:
    # Was stale: `TIMEOUT = 10` is also a line of class Slow, and which of the two it was
    # had nothing to go by; the cited one sits between `import os` and `def load():`.
    await _cite_timeout(repo, TWICE)
    cited = followed(await repo.rewritten("src/config.py", HEADER + TWICE))
    assert (cited.status, cited.citation) == ("moved", "src/config.py:7-7")
    # confirmed where it went, with the lines around it there: followed again
    brief = await repo.rewritten("src/config.py", HEADER + "\n\n" + TWICE)
    (cited,) = brief.decisions[0].citations
    assert (cited.status, cited.citation) == ("moved", "src/config.py:9-9")


async def test_a_short_block_found_twice_whose_lines_around_changed_too_stays_stale(
    repo: Repo,
) -> None:
    await _cite_timeout(repo, TWICE)
    repo.write("src/config.py", HEADER + TWICE.replace("import os", "import os.path"))
    await _stays_stale(repo)


async def test_a_short_block_found_twice_amid_the_same_lines_stays_stale(repo: Repo) -> None:
    twice = CONFIG + "\n\nimport os\nTIMEOUT = 10\ndef load():\n    return 1\n"
    await _cite_timeout(repo, twice)
    repo.write("src/config.py", HEADER + twice)
    await _stays_stale(repo)


async def test_a_short_block_found_twice_saved_before_the_lines_around_were_kept_stays_stale(
    repo: Repo,
) -> None:
    await _cite_timeout(repo, TWICE)
    db = repo.memory.db
    await db.execute("UPDATE memory_citations SET context = NULL")  # as m048 left it
    await db.commit()
    repo.write("src/config.py", HEADER + TWICE)
    await _stays_stale(repo)


async def test_a_short_block_of_punctuation_alone_is_not_followed(repo: Repo) -> None:
    text = 'import os\n\nDOC = """\nabout\n"""\n'
    await repo.cite("src/doc.py", text, "src/doc.py:5-5", title="Doc", decision="the doc ends here")
    brief = await repo.rewritten("src/doc.py", HEADER + text)
    assert brief.decisions == ()
    assert brief.stale[0].citations[0].status == "stale"


async def test_a_short_block_cited_in_a_definition_gone_is_not_followed_to_another(
    repo: Repo,
) -> None:
    # Lines a definition held are looked for in it (by its name): the same short line in
    # another function, the cited one deleted, is not where they went.
    text = "import os\n\n\ndef load():\n    x = 1\n    return os.environ\n"
    await repo.cite(
        "src/env.py", text, "src/env.py:6-6", title="Env", decision="load reads the environment"
    )
    brief = await repo.rewritten(
        "src/env.py", HEADER + "import os\n\n\ndef env():\n    return os.environ\n"
    )
    assert brief.decisions == ()
    assert brief.stale[0].citations[0].status == "stale"


async def test_the_lines_around_keep_no_hash_of_a_secret_their_file_names(repo: Repo) -> None:
    """The line beside the cited one repeats a value its file names as a secret: it is hashed
    redacted, as memory's copy of cited lines is (the file's named values hidden), not as
    read; and the block is still followed by those lines."""
    secret = "hunter2-quartz-77"
    beside = f'conn = connect("{secret}")'
    text = f'DB_PASSWORD = "{secret}"\n\n{beside}\nTIMEOUT = 10\n\n\ndef load():\n    return 1\n'
    await _cite_timeout(repo, text + "\n\nclass Slow:\n    TIMEOUT = 10\n")
    ((context,),) = await repo.memory.db.execute_fetchall("SELECT context FROM memory_citations")
    above = context.split(":")[0]
    as_read = hashlib.blake2b(beside.encode(), digest_size=8).hexdigest()
    assert above != as_read, "the hash of a line holding the secret was stored"
    hidden = redact(beside, named_values(text)).text
    assert secret not in hidden
    assert above == hashlib.blake2b(hidden.encode(), digest_size=8).hexdigest()
    slow = "\n\nclass Slow:\n    TIMEOUT = 10\n"
    cited = followed(await repo.rewritten("src/config.py", HEADER + text + slow))
    assert (cited.status, cited.citation) == ("moved", "src/config.py:7-7")


async def test_a_short_block_a_function_holds_twice_is_followed_by_the_lines_around_it(
    repo: Repo,
) -> None:
    # Was followed to the wrong copy: the cited `x = 1` (line 8) shifted three lines down, and
    # the copy at line 6 then sat nearest its old place; the lines around tell them apart.
    await repo.cite("src/env.py", IN_LOAD, "src/env.py:8-8", title="Second x", decision=AFTER_PATH)
    cited = followed(await repo.rewritten("src/env.py", HEADER + IN_LOAD))
    assert (cited.status, cited.citation) == ("moved", "src/env.py:11-11")


async def test_a_short_block_a_function_holds_twice_amid_lines_changed_goes_to_the_nearest(
    repo: Repo,
) -> None:
    # When the lines around tell nothing (they changed at every copy), the nearest is taken
    # as before: the block is still within the function it was cited in.
    await repo.cite("src/env.py", IN_LOAD, "src/env.py:8-8", title="Second x", decision=AFTER_PATH)
    changed = IN_LOAD.replace("path = env['PATH']", "path = env['HOME']")
    brief = await repo.rewritten("src/env.py", changed.replace("return path", "return path or ''"))
    (cited,) = brief.decisions[0].citations
    assert (cited.status, cited.citation) == ("valid", "src/env.py:8-8")
