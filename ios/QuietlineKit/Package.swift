// swift-tools-version:5.9
// The Swift package around Quietline's Rust core. `build-xcframework.sh` (one directory up)
// builds QuietlineFFI.xcframework into this directory and copies the generated
// Sources/Quietline/Quietline.swift beside the hand-written files; neither is committed.
import PackageDescription

let package = Package(
    name: "QuietlineKit",
    platforms: [.iOS(.v15)],
    products: [
        // The app links this: the generated bindings plus the iOS implementations of the
        // core's foreign traits and the executors of its actions.
        .library(name: "QuietlineKit", targets: ["Quietline"]),
        // Sealed files, the Keychain and the App Group container (the app links it; the Call
        // Directory extension, which loads nothing, links nothing).
        .library(name: "QuietlineShared", targets: ["QuietlineShared"]),
    ],
    targets: [
        // The static Rust library for device and simulator, with the C header and module map
        // (`module QuietlineFFI`) the generated Swift imports.
        .binaryTarget(name: "QuietlineFFI", path: "QuietlineFFI.xcframework"),
        // Sealed files and the Keychain, without the Rust library.
        .target(name: "QuietlineShared", path: "Sources/QuietlineShared"),
        // The module name must be `Quietline`, as bindings/uniffi.toml sets `module_name`.
        .target(
            name: "Quietline",
            dependencies: ["QuietlineFFI", "QuietlineShared"],
            path: "Sources/Quietline",
            linkerSettings: [.linkedFramework("Security"), .linkedFramework("CallKit")]
        ),
    ]
)
