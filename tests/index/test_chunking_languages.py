"""How each language's definitions become chunks (scope, kind, the comments, decorators and
docstrings kept with them), on a realistic sample per language."""

from __future__ import annotations

import pytest

from ocp_server.index.chunking import chunk_text
from ocp_server.index.languages import detect_language
from tests.index.chunk_samples import SAMPLES, assert_invariants, chunk_sample, rows, src


def test_python_method_includes_its_comment_decorator_and_docstring_and_has_class_scope() -> None:
    chunks = chunk_sample("python")
    verify = next(c for c in chunks if c.symbol == "verify_token")
    assert (verify.kind, verify.scope, verify.start_line, verify.end_line) == (
        "method",
        "AuthService",
        19,
        25,
    )
    assert verify.text.startswith(
        "    # Checked on every request.\n    @staticmethod\n    def verify"
    )
    assert '"""Return True when the token\'s signature matches."""' in verify.text
    assert rows(chunks) == [
        (None, "preamble", None, 1, 8),
        ("AuthService", "class", None, 11, 14),
        ("__init__", "method", "AuthService", 16, 17),
        ("verify_token", "method", "AuthService", 19, 25),
        ("Config", "class", "AuthService", 27, 28),
        ("describe", "method", "AuthService.Config", 30, 31),
        ("issue", "function", None, 34, 35),
    ]


def test_python_class_chunk_is_its_header_docstring_and_fields_up_to_the_first_method() -> None:
    chunks = chunk_sample("python")
    cls = next(c for c in chunks if c.symbol == "AuthService")
    assert cls.text == (
        'class AuthService:\n    """Verifies signed tokens."""\n\n    algorithm = "sha256"'
    )


def test_go_method_is_scoped_to_its_receiver_type_and_types_get_their_kind() -> None:
    assert rows(chunk_sample("go")) == [
        (None, "preamble", None, 1, 9),
        ("Token", "struct", None, 11, 15),
        ("Verifier", "interface", None, 17, 20),
        ("Service", "struct", None, 22, 22),
        ("Verify", "method", "Service", 24, 30),
        ("NewService", "function", None, 32, 34),
    ]


def test_rust_impl_methods_are_scoped_to_the_impl_type_and_keep_doc_comments_and_attributes() -> (
    None
):
    chunks = chunk_sample("rust")
    assert rows(chunks) == [
        (None, "preamble", None, 1, 1),
        ("Point", "struct", None, 3, 8),
        ("Shape", "enum", None, 10, 13),
        ("Area", "trait", None, 15, 17),
        ("Point", "impl", None, 19, 19),
        ("origin", "method", "Point", 20, 23),
        ("manhattan", "method", "Point", 25, 28),
        ("Point", "impl", None, 30, 30),
        ("fmt", "method", "Point", 31, 34),
        ("geometry", "module", None, 36, 36),
        ("dist", "function", "geometry", 37, 40),
    ]
    assert chunks[1].text.startswith("/// A point on the plane.\n#[derive(Debug, Clone, Copy)]")


def test_typescript_interfaces_types_enums_decorated_classes_and_arrow_functions() -> None:
    chunks = chunk_sample("typescript")
    assert rows(chunks) == [
        (None, "preamble", None, 1, 1),
        ("User", "interface", None, 3, 6),
        ("UserId", "type", None, 8, 8),
        ("Role", "enum", None, 10, 13),
        ("AuthService", "class", None, 15, 18),
        ("constructor", "method", "AuthService", 20, 20),
        ("verifyToken", "method", "AuthService", 22, 28),
        ("toUser", "function", None, 30, 32),
        ("Internal", "module", None, 34, 34),
        ("helper", "function", "Internal", 35, 38),
    ]
    verify = chunks[6]
    assert verify.text.splitlines()[:2] == [
        "  /** True when the token is valid. */",
        "  @Memoize()",
    ]


def test_tsx_component_functions_arrow_components_and_class_components() -> None:
    assert rows(chunk_sample("tsx")) == [
        (None, "preamble", None, 1, 1),
        ("Props", "type", None, 3, 3),
        ("Header", "function", None, 5, 8),
        ("Counter", "function", None, 10, 13),
        ("App", "class", None, 15, 15),
        ("render", "method", "App", 16, 19),
    ]


def test_javascript_functions_classes_prototype_assignments_and_iife_bodies() -> None:
    assert rows(chunk_sample("javascript")) == [
        (None, "preamble", None, 1, 2),
        ("joinAll", "function", None, 4, 9),
        ("Cache", "class", None, 11, 11),
        ("constructor", "method", "Cache", 12, 14),
        ("get", "method", "Cache", 16, 19),
        ("clear", "function", "Cache", 21, 23),
        (None, "preamble", None, 25, 25),
        ("init", "function", None, 26, 28),
        (None, "preamble", None, 29, 30),
    ]


def test_java_interface_class_constructor_and_annotated_method_with_javadoc() -> None:
    chunks = chunk_sample("java")
    assert rows(chunks) == [
        (None, "preamble", None, 1, 3),
        ("TokenVerifier", "interface", None, 5, 8),
        ("AuthService", "class", None, 10, 12),
        ("AuthService", "method", "AuthService", 14, 16),
        ("verify", "method", "AuthService", 18, 25),
    ]
    assert chunks[4].text.splitlines()[3] == "    @Override"


def test_c_functions_structs_and_typedefs_inside_a_header_guard() -> None:
    chunks = chunk_sample("c")
    assert rows(chunks) == [
        (None, "preamble", None, 1, 4),
        ("point", "struct", None, 6, 10),
        ("size", "struct", None, 12, 14),
        (None, "preamble", None, 16, 16),
        ("point_add", "function", None, 18, 24),
        ("point_name", "function", None, 26, 28),  # the closing #endif rides along
    ]
    assert chunks[4].text.startswith("/* Adds b to a, in place. */\nint point_add(")


def test_cpp_namespace_class_inline_and_out_of_line_methods() -> None:
    assert rows(chunk_sample("cpp")) == [
        (None, "preamble", None, 1, 1),
        ("auth", "module", None, 3, 3),
        ("AuthService", "class", "auth", 5, 6),
        ("AuthService", "method", "auth.AuthService", 7, 7),
        ("verify", "method", "auth.AuthService", 9, 12),
        (None, "preamble", "auth.AuthService", 14, 16),
        ("check", "method", "auth.AuthService", 18, 22),
    ]


def test_csharp_namespace_class_constructor_and_method_with_xml_doc_and_attribute() -> None:
    chunks = chunk_sample("csharp")
    assert rows(chunks) == [
        (None, "preamble", None, 1, 1),
        ("MyApp.Services", "module", None, 3, 4),
        ("AuthService", "class", "MyApp.Services", 5, 9),
        ("AuthService", "method", "MyApp.Services.AuthService", 11, 14),
        ("Verify", "method", "MyApp.Services.AuthService", 16, 21),
        ("Mode", "enum", "MyApp.Services", 23, 24),
    ]
    assert chunks[2].text.splitlines()[1] == "    [Serializable]"


def test_csharp_file_scoped_namespace_scopes_the_declarations_after_it() -> None:
    text = "namespace Acme.Billing;\n\npublic class Invoice\n{\n    public void Pay() { }\n}\n"
    assert rows(chunk_text("Invoice.cs", text)) == [
        (None, "preamble", "Acme.Billing", 1, 1),
        ("Invoice", "class", "Acme.Billing", 3, 4),
        ("Pay", "method", "Acme.Billing.Invoice", 5, 6),
    ]


def test_ruby_module_class_defs_singleton_methods_and_private_marker() -> None:
    chunks = chunk_sample("ruby")
    assert rows(chunks) == [
        (None, "preamble", None, 1, 1),
        ("Auth", "module", None, 3, 4),
        ("Service", "class", "Auth", 5, 7),
        ("initialize", "method", "Auth.Service", 9, 11),
        ("verify", "method", "Auth.Service", 13, 17),
        ("build", "method", "Auth.Service", 19, 21),
        ("sign", "method", "Auth.Service", 23, 29),  # `private` above it, the `end`s below
    ]


def test_php_namespace_class_methods_with_docblocks_and_functions() -> None:
    assert rows(chunk_sample("php")) == [
        (None, "preamble", "App.Auth", 1, 5),
        ("AuthService", "class", "App.Auth", 7, 12),
        ("__construct", "method", "App.Auth.AuthService", 14, 17),
        ("verify", "method", "App.Auth.AuthService", 19, 24),
        ("auth_service", "function", "App.Auth", 26, 29),
    ]


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_every_sample_satisfies_the_coverage_invariants(language: str) -> None:
    path, text = SAMPLES[language]
    assert detect_language(path) == language
    assert_invariants(text, chunk_text(path, text))


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_crlf_and_lone_cr_files_chunk_exactly_like_lf_files(language: str) -> None:
    path, text = SAMPLES[language]
    expected = chunk_text(path, text)
    assert chunk_text(path, text.replace("\n", "\r\n")) == expected
    assert chunk_text(path, text.replace("\n", "\r")) == expected


def test_a_class_without_methods_is_one_chunk_and_small_definitions_keep_their_own_chunks() -> None:
    text = src(
        """
        class Point:
            x: int
            y: int


        def origin() -> Point:
            return Point()
        """
    )
    assert rows(chunk_text("p.py", text)) == [
        ("Point", "class", None, 1, 3),
        ("origin", "function", None, 6, 7),
    ]


def test_a_comment_separated_by_a_blank_line_or_trailing_code_is_not_a_leading_comment() -> None:
    text = src(
        """
        # Module banner.

        def first():
            return 1
        x = 2  # trailing
        def second():
            return 2
        """
    )
    assert rows(chunk_text("m.py", text)) == [
        (None, "preamble", None, 1, 1),
        ("first", "function", None, 3, 4),
        (None, "preamble", None, 5, 5),
        ("second", "function", None, 6, 7),
    ]


def test_a_jsdoc_block_one_blank_line_above_stays_with_its_function() -> None:
    text = src(
        """
        /**
         * Parse accept params `str`.
         * @private
         */

        function acceptParams (str) {
          return str.split(';');
        }

        // a note, not a doc block

        function other () {
          return 1;
        }
        """
    )
    assert rows(chunk_text("utils.js", text)) == [
        ("acceptParams", "function", None, 1, 8),
        (None, "preamble", None, 10, 10),
        ("other", "function", None, 12, 14),
    ]
