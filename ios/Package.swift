// swift-tools-version:5.9
// Swift package for the Mizan on-device personalisation engine.
//
// Build the binary first (macOS): ios/scripts/build-xcframework.sh
//   -> build/MizanFFI.xcframework      (static libmizan_ffi.a for device, simulator and macOS, C header, module map)
//   -> Sources/Mizan/mizan_ffi.swift   (uniffi-generated bindings)
import PackageDescription

let package = Package(
    name: "Mizan",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "Mizan", targets: ["Mizan"]),
    ],
    targets: [
        // Module name must match the generated module map: `module mizan_ffiFFI`.
        .binaryTarget(name: "mizan_ffiFFI", path: "build/MizanFFI.xcframework"),
        .target(
            name: "Mizan",
            dependencies: ["mizan_ffiFFI"],
            path: "Sources/Mizan",
            // Apple's privacy manifest: no tracking, nothing collected, and why the store
            // reads file metadata and a monotonic clock (checked by ios/scripts/check_swift.py).
            resources: [.copy("PrivacyInfo.xcprivacy")]
        ),
        // XCTest, on a Mac (the XCFramework's macOS slice): ios/scripts/test-swift.sh.
        .testTarget(name: "MizanTests", dependencies: ["Mizan"], path: "Tests/MizanTests"),
    ]
)
