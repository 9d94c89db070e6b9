// swift-tools-version:6.0
// Hirewire: a declarative workflow engine for recruiting journeys.
// No SwiftPM package dependencies by design: Foundation plus system C libraries.
import PackageDescription

let package = Package(
    name: "Hirewire",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "hirewire", targets: ["hirewire"]),
        .library(name: "HirewireLanguage", targets: ["HirewireLanguage"]),
    ],
    targets: [
        // C shims: one system-library target per C library.
        .systemLibrary(
            name: "CYaml",
            path: "Sources/CYaml",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),

        .systemLibrary(
            name: "CSQLite",
            path: "Sources/CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),

        .systemLibrary(
            name: "CCrypto",
            path: "Sources/CCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),

        .systemLibrary(
            name: "CMicroHTTPD",
            path: "Sources/CMicroHTTPD",
            pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            path: "Sources/CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),

        // The pure language: values, loading, expressions, time, templates, compiler.
        .target(name: "HirewireLanguage", dependencies: ["CYaml"]),

        // The pure engine: the step function, routing, policies, the virtual-clock runtime.
        .target(name: "HirewireEngine", dependencies: ["HirewireLanguage"]),

        // Durable storage: the JourneyStore protocol and its SQLite implementation.
        .target(name: "HirewireStore", dependencies: ["HirewireEngine", "HirewireLanguage", "CSQLite"]),

        // The shell: the engine over a store, with timers and inbox processing.
        .target(name: "HirewireRuntime", dependencies: ["HirewireEngine", "HirewireStore", "HirewireIntake", "HirewireLanguage"]),

        // Webhook intake: signature schemes (OpenSSL libcrypto); the HTTP server follows.
        .target(name: "HirewireIntake", dependencies: ["CCrypto", "CMicroHTTPD", "HirewireLanguage", "HirewireStore"]),

        // Connectors: outbound HTTP and SMTP through libcurl, the dispatcher, plugins.
        .target(name: "HirewireConnectors", dependencies: ["CCurl", "HirewireLanguage", "HirewireEngine", "HirewireStore", "HirewireIntake"]),

        // Commands: argument parsing and output; every command calls into the modules above.
        .target(name: "HirewireCLI", dependencies: ["HirewireLanguage", "HirewireEngine", "HirewireStore", "HirewireRuntime", "HirewireIntake", "HirewireConnectors"]),
        .executableTarget(name: "hirewire", dependencies: ["HirewireCLI"]),

        // Release-build benchmarks: `swift run -c release hirewire-bench`.
        .executableTarget(name: "hirewire-bench", dependencies: ["HirewireLanguage", "HirewireEngine", "HirewireStore", "HirewireRuntime",
                                                                  "HirewireIntake", "HirewireConnectors"],
                          path: "Sources/HirewireBench"),

        // The embedding example of docs/embedding.md, as a program a test runs.
        .executableTarget(name: "hirewire-embed-example", dependencies: ["HirewireRuntime", "HirewireStore", "HirewireEngine", "HirewireLanguage"],
                          path: "examples/embedding"),

        // A deterministic load for the crash tests (killed with SIGKILL and restarted).
        .executableTarget(name: "hirewire-soak", dependencies: ["HirewireRuntime", "HirewireStore", "HirewireEngine", "HirewireLanguage"],
                          path: "Sources/HirewireSoak"),

        .testTarget(
            name: "LanguageTests",
            dependencies: ["HirewireLanguage"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(name: "EngineTests", dependencies: ["HirewireEngine", "HirewireLanguage"]),
        .testTarget(name: "StoreTests", dependencies: ["HirewireStore", "HirewireRuntime", "HirewireEngine", "HirewireLanguage"]),
        .testTarget(name: "IntakeTests", dependencies: ["HirewireIntake", "HirewireStore", "HirewireLanguage", "HirewireTestSupport"],
                    resources: [.copy("Fixtures")]),
        // Real servers for tests (an SMTP server on aiosmtpd, free ports, temporary folders).
        .target(name: "HirewireTestSupport", path: "Tests/Support", exclude: ["smtp_sink.py", "flaky-plugin"]),
        .testTarget(name: "ConnectorTests", dependencies: ["HirewireConnectors", "HirewireStore", "HirewireEngine", "HirewireLanguage",
                                                           "HirewireIntake", "HirewireRuntime", "HirewireTestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["HirewireCLI", "HirewireLanguage", "HirewireEngine", "HirewireStore", "HirewireRuntime", "HirewireConnectors", "HirewireIntake",
                                                     "HirewireTestSupport"]),
    ]
)
