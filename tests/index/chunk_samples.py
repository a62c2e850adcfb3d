"""A realistic sample file per language for the chunker's tests, and what every chunking of a file
must satisfy: each non-blank line covered, chunks in order, none over the character cap."""

from __future__ import annotations

from textwrap import dedent

from ocp_server.index.chunking import MAX_CHUNK_CHARS, Chunk, chunk_text

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
