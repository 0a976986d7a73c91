// swift-tools-version:5.9
// The Mizan Swift package, for apps that depend on this repository:
//   .package(url: "<this repository>", exact: "0.1.0")
// The binary target is the release's MizanFFI.xcframework.zip; `releaseTag` and `checksum` are
// written by ios/scripts/set-package-release.py at release time, from the zip and checksum that
// ios/scripts/build-xcframework.sh leaves in ios/build/. For local development against a fresh
// build, open ios/Package.swift instead (the same targets, the XCFramework by path).
import PackageDescription

let releaseTag = "0.1.0"
let releaseURLBase = "https://mizan.invalid/releases/download"
let checksum = "0000000000000000000000000000000000000000000000000000000000000000"

let package = Package(
    name: "Mizan",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "Mizan", targets: ["Mizan"]),
    ],
    targets: [
        // Module name must match the generated module map: `module mizan_ffiFFI`.
        .binaryTarget(
            name: "mizan_ffiFFI",
            url: "\(releaseURLBase)/\(releaseTag)/MizanFFI.xcframework.zip",
            checksum: checksum
        ),
        .target(
            name: "Mizan",
            dependencies: ["mizan_ffiFFI"],
            path: "ios/Sources/Mizan",
            resources: [.copy("PrivacyInfo.xcprivacy")]
        ),
        .testTarget(name: "MizanTests", dependencies: ["Mizan"], path: "ios/Tests/MizanTests"),
    ]
)
