"""The syntax-aware chunker behind the workspace search index."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from textwrap import dedent

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocp_server.index.chunking import MAX_CHUNK_CHARS, Chunk, chunk_text
from ocp_server.index.chunking.registry import SPECS
from ocp_server.index.chunking.walker import parser
from ocp_server.index.languages import SYNTAX_LANGUAGES, TEXT_LANGUAGES, detect_language

Row = tuple[str | None, str, str | None, int, int]


def src(text: str) -> str:
    return dedent(text).lstrip("\n")


def rows(chunks: list[Chunk]) -> list[Row]:
    return [(c.symbol, c.kind, c.scope, c.start_line, c.end_line) for c in chunks]


def file_lines(text: str) -> list[str]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def assert_invariants(text: str, chunks: list[Chunk], max_chars: int = MAX_CHUNK_CHARS) -> None:
    """Every non-blank line is covered; ranges are sane; text is the file's lines."""
    lines = file_lines(text)
    covered = bytearray(len(lines))
    for chunk in chunks:
        assert 1 <= chunk.start_line <= chunk.end_line <= len(lines), chunk
        assert len(chunk.text) <= max_chars
        exact = "\n".join(lines[chunk.start_line - 1 : chunk.end_line])
        if chunk.text != exact:  # a slice of one enormous line
            assert chunk.start_line == chunk.end_line and chunk.text in exact, chunk
            assert len(exact) > max_chars
        assert lines[chunk.start_line - 1].strip() and lines[chunk.end_line - 1].strip()
        covered[chunk.start_line - 1 : chunk.end_line] = b"\x01" * (
            chunk.end_line - chunk.start_line + 1
        )
    uncovered = [i + 1 for i, line in enumerate(lines) if line.strip() and not covered[i]]
    assert uncovered == []
    starts = [c.start_line for c in chunks]
    assert starts == sorted(starts)


# --------------------------------------------------------------------------------------------
# Realistic samples, one per language
# --------------------------------------------------------------------------------------------

PYTHON = src('''
    """Token verification."""

    from __future__ import annotations

    import hmac
    import time

    DEFAULT_TTL = 3600


    class AuthService:
        """Verifies signed tokens."""

        algorithm = "sha256"

        def __init__(self, secret: bytes) -> None:
            self.secret = secret

        # Checked on every request.
        @staticmethod
        def verify_token(token: str, secret: bytes) -> bool:
            """Return True when the token's signature matches."""
            body, _, sig = token.rpartition(".")
            expected = hmac.new(secret, body.encode(), "sha256").hexdigest()
            return hmac.compare_digest(sig, expected)

        class Config:
            strict = True

            def describe(self) -> str:
                return "strict" if self.strict else "lax"


    def issue(user: str) -> str:
        return f"{user}.{int(time.time())}"
''')

GO = src("""
    // Package auth verifies tokens.
    package auth

    import (
        "errors"
        "time"
    )

    var ErrExpired = errors.New("expired")

    // Token is a signed token.
    type Token struct {
        Value   string
        Expires time.Time
    }

    // Verifier checks tokens.
    type Verifier interface {
        Verify(t Token) error
    }

    type Service struct{ secret []byte }

    // Verify checks the token's expiry.
    func (s *Service) Verify(t Token) error {
        if time.Now().After(t.Expires) {
            return ErrExpired
        }
        return nil
    }

    func NewService(secret []byte) *Service {
        return &Service{secret: secret}
    }
""").replace("    ", "\t")

RUST = src("""
    use std::fmt;

    /// A point on the plane.
    #[derive(Debug, Clone, Copy)]
    pub struct Point {
        pub x: i32,
        pub y: i32,
    }

    pub enum Shape {
        Circle(f64),
        Square(f64),
    }

    pub trait Area {
        fn area(&self) -> f64;
    }

    impl Point {
        /// The origin.
        pub fn origin() -> Self {
            Point { x: 0, y: 0 }
        }

        pub fn manhattan(&self) -> i32 {
            self.x.abs() + self.y.abs()
        }
    }

    impl fmt::Display for Point {
        fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "({}, {})", self.x, self.y)
        }
    }

    mod geometry {
        pub fn dist(a: i32, b: i32) -> i32 {
            (a - b).abs()
        }
    }
""")

TYPESCRIPT = src("""
    import { Http } from "./http";

    export interface User {
      id: number;
      name: string;
    }

    export type UserId = User["id"];

    export enum Role {
      Admin,
      Member,
    }

    /** Verifies tokens against the API. */
    @Injectable()
    export class AuthService {
      private cache = new Map<string, boolean>();

      constructor(private http: Http) {}

      /** True when the token is valid. */
      @Memoize()
      async verifyToken(token: string): Promise<boolean> {
        const res = await this.http.post("/verify", { token });
        return res.ok;
      }
    }

    export const toUser = (raw: unknown): User => {
      return raw as User;
    };

    namespace Internal {
      export function helper(): number {
        return 1;
      }
    }
""")

TSX = src("""
    import React, { useState } from "react";

    type Props = { title: string };

    /** Page header. */
    export function Header({ title }: Props) {
      return <h1 className="title">{title}</h1>;
    }

    export const Counter: React.FC = () => {
      const [n, setN] = useState(0);
      return <button onClick={() => setN(n + 1)}>{n}</button>;
    };

    export default class App extends React.Component<Props> {
      render() {
        return <Header title={this.props.title} />;
      }
    }
""")

JAVASCRIPT = src("""
    "use strict";
    const path = require("path");

    /**
     * Joins paths.
     */
    function joinAll(...parts) {
      return parts.reduce((a, b) => path.join(a, b));
    }

    class Cache {
      constructor() {
        this.map = new Map();
      }

      get(key) {
        return this.map.get(key);
      }
    }

    Cache.prototype.clear = function () {
      this.map.clear();
    };

    (function ($) {
      function init() {
        $(".x").show();
      }
      $(init);
    })(jQuery);
""")

JAVA = src("""
    package com.example.auth;

    import java.util.Objects;

    /** Verifies tokens. */
    public interface TokenVerifier {
        boolean verify(String token);
    }

    @Service
    public class AuthService implements TokenVerifier {
        private final String secret;

        public AuthService(String secret) {
            this.secret = Objects.requireNonNull(secret);
        }

        /**
         * Checks the token against the secret.
         */
        @Override
        public boolean verify(String token) {
            return secret.equals(token);
        }
    }
""")

C = src("""
    #ifndef POINT_H
    #define POINT_H

    #include <stdlib.h>

    /* A point on the plane. */
    struct point {
        int x;
        int y;
    };

    typedef struct {
        int w, h;
    } size;

    int point_add(struct point *a, const struct point *b);

    /* Adds b to a, in place. */
    int point_add(struct point *a, const struct point *b)
    {
        a->x += b->x;
        a->y += b->y;
        return 0;
    }

    static char *point_name(void) { return "point"; }

    #endif
""")

CPP = src("""
    #include <string>

    namespace auth {

    class AuthService {
    public:
        explicit AuthService(std::string secret) : secret_(std::move(secret)) {}

        // True when the token matches.
        bool verify(const std::string& token) const {
            return token == secret_;
        }

    private:
        std::string secret_;
    };

    bool AuthService::check(int level) {
        return level > 0;
    }

    }  // namespace auth
""")

CSHARP = src("""
    using System;

    namespace MyApp.Services
    {
        /// <summary>Verifies tokens.</summary>
        [Serializable]
        public class AuthService
        {
            private readonly string _secret;

            public AuthService(string secret)
            {
                _secret = secret;
            }

            /// <summary>True when the token matches.</summary>
            public bool Verify(string token)
            {
                return token == _secret;
            }
        }

        public enum Mode { Strict, Lax }
    }
""")

RUBY = src("""
    require "openssl"

    # Authentication helpers.
    module Auth
      # Verifies signed tokens.
      class Service < Base
        DIGEST = "SHA256"

        def initialize(secret)
          @secret = secret
        end

        # True when the token's signature matches.
        def verify(token)
          body, sig = token.split(".")
          sign(body) == sig
        end

        def self.build
          new(ENV.fetch("SECRET"))
        end

        private

        def sign(body)
          OpenSSL::HMAC.hexdigest(DIGEST, @secret, body)
        end
      end
    end
""")

PHP = src("""
    <?php

    namespace App\\Auth;

    use App\\Models\\User;

    /**
     * Verifies tokens.
     */
    final class AuthService
    {
        private string $secret;

        public function __construct(string $secret)
        {
            $this->secret = $secret;
        }

        /** True when the token matches. */
        public function verify(string $token): bool
        {
            return hash_equals($this->secret, $token);
        }
    }

    function auth_service(): AuthService
    {
        return new AuthService(getenv("SECRET"));
    }
""")

SAMPLES: dict[str, tuple[str, str]] = {
    "python": ("auth/service.py", PYTHON),
    "go": ("auth/service.go", GO),
    "rust": ("src/point.rs", RUST),
    "typescript": ("src/auth.ts", TYPESCRIPT),
    "tsx": ("src/App.tsx", TSX),
    "javascript": ("lib/cache.js", JAVASCRIPT),
    "java": ("src/AuthService.java", JAVA),
    "c": ("include/point.h", C),
    "cpp": ("src/auth.cpp", CPP),
    "csharp": ("Services/AuthService.cs", CSHARP),
    "ruby": ("lib/auth.rb", RUBY),
    "php": ("src/AuthService.php", PHP),
}


def chunk_sample(language: str) -> list[Chunk]:
    path, text = SAMPLES[language]
    return chunk_text(path, text)


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


# --------------------------------------------------------------------------------------------
# Preamble merging, big constants, oversized definitions
# --------------------------------------------------------------------------------------------


def test_tiny_top_level_neighbours_merge_into_one_preamble_and_big_constants_stand_alone() -> None:
    text = src(
        """
        import os
        import sys

        VERSION = "1.0"
        DEBUG = os.environ.get("DEBUG") == "1"
        SMALL = {
            "a": 1,
        }

        SETTINGS = {
            "debug": DEBUG,
            "version": VERSION,
            "paths": sys.path,
            "cwd": os.getcwd(),
            "env": dict(os.environ),
        }
        print(SETTINGS)


        def main() -> None:
            print(VERSION)
        """
    )
    assert rows(chunk_text("settings.py", text)) == [
        (None, "preamble", None, 1, 8),
        ("SETTINGS", "constant", None, 10, 16),
        (None, "preamble", None, 17, 17),
        ("main", "function", None, 20, 21),
    ]


def test_an_oversized_function_is_split_into_overlapping_parts_that_keep_its_identity() -> None:
    body = "".join(f"    total += {i}\n" for i in range(400))
    text = "class Calc:\n    def big(self):\n        total = 0\n" + body.replace("    ", "        ")
    chunks = chunk_text("calc.py", text, max_chunk_lines=150, window_overlap=10)
    parts = [c for c in chunks if c.symbol == "big"]
    assert [(c.start_line, c.end_line) for c in parts] == [(2, 142), (133, 273), (264, 403)]
    assert {(c.kind, c.scope) for c in parts} == {("method", "Calc")}
    assert all(c.end_line - c.start_line + 1 <= 150 for c in parts)
    assert_invariants(text, chunks)


def test_oversized_parts_prefer_to_end_at_a_blank_line() -> None:
    lines = ["def long():"]
    for block in range(8):
        lines += [f"    x{block}_{i} = {i}" for i in range(24)] + [""]
    text = "\n".join(lines) + "\n    return 0\n"
    chunks = chunk_text("long.py", text, max_chunk_lines=60, window_overlap=5)
    assert len(chunks) > 1
    for chunk in chunks[:-1]:
        next_line = text.split("\n")[chunk.end_line]
        assert next_line == "", chunk  # each part stops just before a blank line
        assert chunk.end_line - chunk.start_line + 1 <= 60
    assert_invariants(text, chunks)


def test_an_oversized_preamble_is_cut_at_statement_boundaries_keeping_comments_with_code() -> None:
    steps = "".join(f"# step {i}\nprint({i})\n" for i in range(100))
    text = "import os\n" + steps
    chunks = chunk_text("script.py", text, max_chunk_lines=150, window_lines=60, window_overlap=10)
    assert rows(chunks) == [
        (None, "preamble", None, 1, 59),
        (None, "preamble", None, 60, 119),
        (None, "preamble", None, 120, 179),
        (None, "preamble", None, 180, 201),
    ]
    assert all(c.text.startswith(("import", "# step")) for c in chunks)


def test_a_single_oversized_top_level_statement_is_cut_into_line_windows() -> None:
    text = "run(\n" + "".join(f"    {i},\n" for i in range(198)) + ")\n"
    chunks = chunk_text("script.py", text, max_chunk_lines=150, window_lines=60, window_overlap=10)
    assert rows(chunks) == [
        (None, "preamble", None, 1, 60),
        (None, "preamble", None, 51, 110),
        (None, "preamble", None, 101, 160),
        (None, "preamble", None, 151, 200),
    ]


def test_closing_braces_join_the_chunk_before_and_access_modifiers_the_member_after() -> None:
    text = src(
        """
        class Box {
            int v;
        public:
            int get() const { return v; }
        private:
            void set(int x) { v = x; }
        };
        """
    )
    assert rows(chunk_text("box.cpp", text)) == [
        ("Box", "class", None, 1, 3),
        ("get", "method", "Box", 4, 4),
        ("set", "method", "Box", 5, 7),
    ]


# --------------------------------------------------------------------------------------------
# Markdown and windows
# --------------------------------------------------------------------------------------------

MARKDOWN = src(
    """
    ---
    title: Guide
    ---

    Intro paragraph.

    # Guide

    Welcome.

    ## Install

    ```bash
    # not a heading
    pip install ocp
    ```

    ## Usage
    Run it.

    Setext Title
    ============

    Body.

    ### Deep ###
    text
    """
)


def test_markdown_is_split_by_headings_with_the_enclosing_headings_as_scope() -> None:
    chunks = chunk_text("docs/guide.md", MARKDOWN)
    assert rows(chunks) == [
        (None, "preamble", None, 1, 5),
        ("Guide", "section", None, 7, 9),
        ("Install", "section", "Guide", 11, 16),
        ("Usage", "section", "Guide", 18, 19),
        ("Setext Title", "section", None, 21, 24),
        ("Deep", "section", "Setext Title", 26, 27),
    ]
    assert "# not a heading" in chunks[2].text
    assert_invariants(MARKDOWN, chunks)


def test_an_oversized_markdown_section_is_windowed_and_keeps_its_heading() -> None:
    text = "# Intro\n\nshort\n\n# Reference\n" + "".join(f"- item {i}\n" for i in range(100))
    chunks = chunk_text("ref.md", text, max_chunk_lines=50, window_lines=40, window_overlap=5)
    assert rows(chunks) == [
        ("Intro", "section", None, 1, 3),
        ("Reference", "section", None, 5, 44),
        ("Reference", "section", None, 40, 79),
        ("Reference", "section", None, 75, 105),
    ]


def test_markdown_without_headings_is_windowed() -> None:
    text = "".join(f"line {i}\n" for i in range(70))
    assert [c.kind for c in chunk_text("notes.md", text)] == ["window", "window"]


def test_plain_text_is_cut_into_overlapping_windows() -> None:
    text = "".join(f"row {i}\n" for i in range(130))
    chunks = chunk_text("data.txt", text, window_lines=60, window_overlap=10)
    assert rows(chunks) == [
        (None, "window", None, 1, 60),
        (None, "window", None, 51, 110),
        (None, "window", None, 101, 130),
    ]
    assert chunks[1].text.split("\n")[0] == "row 50"


def test_a_last_window_adding_under_min_chunk_lines_lines_is_folded_into_the_one_before() -> None:
    text = "".join(f"row {i}\n" for i in range(115))
    chunks = chunk_text("data.txt", text, window_lines=60, window_overlap=10, min_chunk_lines=6)
    assert [(c.start_line, c.end_line) for c in chunks] == [(1, 60), (51, 115)]


def test_windows_skip_blank_stretches_and_never_start_or_end_on_a_blank_line() -> None:
    text = "a\n" + "\n" * 100 + "b\n"
    chunks = chunk_text("gap.txt", text, window_lines=30, window_overlap=5)
    assert [(c.start_line, c.end_line) for c in chunks] == [(1, 1), (102, 102)]


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("data.json", None),
        ("conf.yaml", None),
        ("x.unknown", None),
        ("noext", None),
        ("a.py", "text"),
    ],
)
def test_unknown_and_plain_text_kinds_are_windowed(path: str, language: str | None) -> None:
    text = "".join(f"def f{i}(): pass\n" for i in range(80))
    chunks = chunk_text(path, text, language, window_lines=50, window_overlap=10)
    assert rows(chunks) == [(None, "window", None, 1, 50), (None, "window", None, 41, 80)]


# --------------------------------------------------------------------------------------------
# Robustness
# --------------------------------------------------------------------------------------------


def test_empty_and_blank_files_have_no_chunks() -> None:
    assert chunk_text("a.py", "") == []
    assert chunk_text("a.py", "\n\n   \n\t\n") == []
    assert chunk_text("a.md", "\r\n\r\n") == []


def test_a_file_of_only_comments_is_one_preamble() -> None:
    text = "// one\n// two\n/* three */\n"
    assert rows(chunk_text("c.go", text)) == [(None, "preamble", None, 1, 3)]


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_invalid_syntax_still_yields_chunks_covering_the_file(language: str) -> None:
    path, text = SAMPLES[language]
    lines = text.split("\n")
    broken = "\n".join(
        lines[: len(lines) // 2] + ["}}} ))) def class ((( {{{ @@@ ;;"] + lines[len(lines) // 2 :]
    )
    chunks = chunk_text(path, broken)
    assert chunks
    assert_invariants(broken, chunks)


def test_python_with_a_syntax_error_keeps_the_definitions_it_can_recognise() -> None:
    text = "def broken(:\n    pass\n\n\ndef fine():\n    return 1\n"
    chunks = chunk_text("e.py", text)
    assert ("fine", "function", None, 5, 6) in rows(chunks)
    assert_invariants(text, chunks)


def test_a_two_megabyte_minified_line_is_sliced_by_characters_quickly() -> None:
    line = "var a=function(b){return b+1};" * 70_000
    assert len(line) > 2_000_000
    started = time.thread_time()  # CPU time: the work, not the waits for a busy core
    chunks = chunk_text("vendor/app.min.js", line + "\n")
    assert time.thread_time() - started < 2.0
    assert all(c.start_line == c.end_line == 1 for c in chunks)
    assert all(len(c.text) <= MAX_CHUNK_CHARS for c in chunks)
    assert "".join(c.text for c in chunks) == line


def test_an_enormous_line_inside_code_is_sliced_and_the_rest_stays_whole() -> None:
    functions = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(800))
    text = functions + "BLOB = '" + "x" * 5000 + "'\n\n\ndef g():\n    return 2\n"
    chunks = chunk_text("blob.py", text, max_chunk_chars=1024)
    assert_invariants(text, chunks, max_chars=1024)
    blob_line = functions.count("\n") + 1
    assert ("f0", "function", None, 1, 2) in rows(chunks)
    assert ("g", "function", None, blob_line + 3, blob_line + 4) in rows(chunks)
    slices = [c for c in chunks if c.start_line == c.end_line == blob_line]
    assert len(slices) >= 5
    assert "".join(c.text for c in slices) == text.split("\n")[blob_line - 1]


def test_a_chunk_over_the_character_cap_is_cut_into_line_groups() -> None:
    body = "".join(f"    value_{i} = '{'y' * 90}'\n" for i in range(120))
    text = "def wide():\n" + body
    chunks = chunk_text("wide.py", text, max_chunk_chars=4000)
    assert len(chunks) >= 3
    assert {(c.symbol, c.kind) for c in chunks} == {("wide", "function")}
    assert_invariants(text, chunks, max_chars=4000)


def test_tabs_non_ascii_and_a_byte_order_mark_keep_line_numbers_right() -> None:
    text = (
        "\ufeffdef grüße():\n\treturn 'héllo wörld ✓'\n\n\n"
        "# 注释\nclass Ünïcode:\n\tdef méthode(self):\n\t\treturn '😀'\n"
    )
    chunks = chunk_text("u.py", text)
    assert rows(chunks) == [
        ("grüße", "function", None, 1, 2),
        ("Ünïcode", "class", None, 5, 6),
        ("méthode", "method", "Ünïcode", 7, 8),
    ]
    assert_invariants(text, chunks)


def test_nul_bytes_and_garbage_do_not_raise() -> None:
    text = "\x00\x01\x02 binary \xff\ufffd\n" * 50 + "def f():\n    pass\n"
    for path in ("bin.py", "bin.js", "bin.c", "bin.md", "bin.dat"):
        assert_invariants(text, chunk_text(path, text))


def test_absurdly_deep_nesting_falls_back_to_windows_instead_of_raising() -> None:
    depth = 3000
    text = "".join(f"namespace N{i} {{\n" for i in range(depth)) + "}\n" * depth
    chunks = chunk_text("deep.cpp", text)
    assert_invariants(text, chunks)


def test_invalid_options_are_rejected() -> None:
    with pytest.raises(ValueError):
        chunk_text("a.py", "x = 1\n", window_lines=10, window_overlap=10)
    with pytest.raises(ValueError):
        chunk_text("a.py", "x = 1\n", max_chunk_lines=0)


def test_a_dot_h_header_that_is_really_cpp_is_parsed_as_cpp() -> None:
    text = "namespace geo {\nclass Shape {\npublic:\n    double area() const { return 0; }\n};\n}\n"
    symbols = {(c.symbol, c.kind, c.scope) for c in chunk_text("include/shape.h", text)}
    assert ("area", "method", "geo.Shape") in symbols


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------

FRAGMENTS = [
    "import os",
    "from x import (a,",
    "def f(x):",
    "    return x",
    "class A(B):",
    '    """doc"""',
    "    def m(self):",
    "        pass",
    "@decorator",
    "# comment",
    "function g() {",
    "}",
    "};",
    "class C {",
    "  public:",
    "  void h() { }",
    "fn r() -> u8 { 0 }",
    "impl T for S {",
    "func (s *S) M() {",
    "type X struct {",
    "#[derive(Debug)]",
    "/// doc",
    "/* block",
    "*/",
    "<?php",
    "module M",
    "  def x",
    "end",
    "namespace N {",
    "# Heading",
    "```",
    "===",
    "\tindented\twith\ttabs",
    "ünïcødé ✓ 😀",
    "'unterminated",
    "x" * 300,
    "",
    "   ",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    picks=st.lists(st.sampled_from(FRAGMENTS), max_size=80),
    path=st.sampled_from(
        ["a.py", "a.js", "a.ts", "a.tsx", "a.go", "a.rs", "A.java", "a.c", "a.cpp", "a.cs"]
        + ["a.rb", "a.php", "a.md", "a.txt"]
    ),
    newline=st.sampled_from(["\n", "\r\n"]),
    max_lines=st.integers(min_value=3, max_value=40),
)
def test_every_non_blank_line_is_covered_for_arbitrary_line_soup(
    picks: list[str], path: str, newline: str, max_lines: int
) -> None:
    text = newline.join(picks)
    chunks = chunk_text(
        path,
        text,
        max_chunk_lines=max_lines,
        window_lines=max(2, max_lines // 2),
        window_overlap=1,
        max_chunk_chars=512,
    )
    assert_invariants(text, chunks, max_chars=512)


def _real_files(per_language: int) -> Iterator[Path]:
    root = Path(sysconfig.get_paths()["purelib"])
    seen: dict[str, int] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            language = detect_language(name)
            if language is None or seen.get(language, 0) >= per_language:
                continue
            path = Path(dirpath) / name
            if path.stat().st_size > 1_500_000:
                continue
            if zlib.crc32(name.encode()) % 3 == 0 or language != "python":
                seen[language] = seen.get(language, 0) + 1
                yield path


def test_every_non_blank_line_of_real_files_in_site_packages_is_covered() -> None:
    checked = 0
    for path in _real_files(per_language=250):
        text = path.read_bytes().decode("utf-8", "replace")
        assert_invariants(text, chunk_text(str(path), text))
        checked += 1
    assert checked > 250


# --------------------------------------------------------------------------------------------
# Languages, parsers, performance
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("src/app.py", "python"),
        ("types.pyi", "python"),
        ("web/index.JS", "javascript"),
        ("web/view.jsx", "javascript"),
        ("a/b.mjs", "javascript"),
        ("src/auth.ts", "typescript"),
        ("src/App.test.tsx", "tsx"),
        ("main.go", "go"),
        ("lib.rs", "rust"),
        ("Main.java", "java"),
        ("x.c", "c"),
        ("x.h", "c"),
        ("x.hpp", "cpp"),
        ("x.cc", "cpp"),
        ("Program.cs", "csharp"),
        ("app.rb", "ruby"),
        ("Rakefile", "ruby"),
        ("Gemfile", "ruby"),
        ("index.php", "php"),
        ("README.md", "markdown"),
        ("C:\\\\repo\\\\docs\\\\GUIDE.MD", "markdown"),
        ("notes.txt", "text"),
        ("package.json", "json"),
        ("ci.yml", "yaml"),
        ("pyproject.toml", "toml"),
        ("run.sh", "shell"),
        ("schema.sql", "sql"),
        ("page.html", "html"),
        ("site.css", "css"),
        ("Dockerfile", "dockerfile"),
        ("Makefile", "makefile"),
        ("image.png", None),
        ("LICENSE.bin", None),
        ("noextension", None),
        (".npmrc", None),
    ],
)
def test_detect_language_by_extension_and_file_name(path: str, expected: str | None) -> None:
    assert detect_language(path) == expected


def test_every_detected_kind_is_either_a_grammar_markdown_or_plain_text() -> None:
    assert SYNTAX_LANGUAGES.isdisjoint(TEXT_LANGUAGES)
    assert "markdown" not in TEXT_LANGUAGES
    assert {"text", "json", "yaml", "toml", "shell", "sql", "html", "css"} <= TEXT_LANGUAGES


def test_importing_the_chunker_loads_no_grammar_and_chunking_loads_only_the_one_needed() -> None:
    code = (
        "import sys\n"
        "import ocp_server.index.chunking as c\n"
        "assert not [m for m in sys.modules if m.startswith('tree_sitter')], sys.modules\n"
        "c.chunk_text('a.py', 'def f():\\n    pass\\n')\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('tree_sitter_') and '.' not in m)\n"
        "assert loaded == ['tree_sitter_python'], loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _parser(language: str) -> object:
    return parser(SPECS[language])


def test_parsers_are_cached_per_language_and_per_thread() -> None:
    assert _parser("python") is _parser("python")
    assert _parser("go") is not _parser("python")
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(_parser("python")))
    thread.start()
    thread.join()
    assert other[0] is not _parser("python")


def test_chunking_from_many_threads_gives_the_same_result_as_one() -> None:
    expected = {language: chunk_sample(language) for language in SAMPLES}
    failures: list[str] = []

    def work() -> None:
        for _ in range(20):
            for language in SAMPLES:
                if chunk_sample(language) != expected[language]:
                    failures.append(language)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
