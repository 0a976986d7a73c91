// swift-tools-version:5.9
// The Mizan Swift package, for apps that depend on this repository:
//   .package(url: "<this repository>", exact: "0.1.0")
// The binary target is the release's MizanFFI.xcframework.zip; `releaseTag` and `checksum` are
// written by ios/scripts/set-package-release.py at release time, from the zip and checksum that
// ios/scripts/build-xcframework.sh leaves in ios/build/. Working on Mizan itself, set
// MIZAN_LOCAL_XCFRAMEWORK=1 to take the XCFramework that script just built, by path
// (ios/scripts/test-swift.sh does).
import Foundation
import PackageDescription

let releaseTag = "0.1.0"
let releaseURLBase = "https://mizan.invalid/releases/download"
let checksum = "0000000000000000000000000000000000000000000000000000000000000000"

// Module name must match the generated module map: `module mizan_ffiFFI`.
let binary: Target = ProcessInfo.processInfo.environment["MIZAN_LOCAL_XCFRAMEWORK"] == nil
    ? .binaryTarget(name: "mizan_ffiFFI", url: "\(releaseURLBase)/\(releaseTag)/MizanFFI.xcframework.zip", checksum: checksum)
    : .binaryTarget(name: "mizan_ffiFFI", path: "ios/build/MizanFFI.xcframework")

let package = Package(
    name: "Mizan",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "Mizan", targets: ["Mizan"]),
    ],
    targets: [
        binary,
        .target(
            name: "Mizan",
            dependencies: ["mizan_ffiFFI"],
            path: "ios/Sources/Mizan",
            // Apple's privacy manifest: no tracking, nothing collected, and why the store
            // reads file metadata and a monotonic clock (checked by ios/scripts/check_swift.py).
            resources: [.copy("PrivacyInfo.xcprivacy")]
        ),
        // XCTest, on a Mac (the XCFramework's macOS slice): ios/scripts/test-swift.sh.
        .testTarget(name: "MizanTests", dependencies: ["Mizan"], path: "ios/Tests/MizanTests"),
    ]
)
