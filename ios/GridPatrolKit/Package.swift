// swift-tools-version:5.9
// GridPatrolKit: the generated uniffi bindings (GridPatrolFFI, copied in by
// ../build-xcframework.sh together with the XCFramework it loads) and a thin async/await layer
// (GridPatrolKit). No UIKit here: the app shell owns the screens.
import PackageDescription

let package = Package(
    name: "GridPatrolKit",
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [
        .library(name: "GridPatrolKit", targets: ["GridPatrolKit"]),
    ],
    targets: [
        .binaryTarget(name: "GridPatrolFFIC", path: "build/GridPatrolFFIC.xcframework"),
        .target(name: "GridPatrolFFI", dependencies: ["GridPatrolFFIC"], path: "Sources/GridPatrolFFI"),
        .target(name: "GridPatrolKit", dependencies: ["GridPatrolFFI"], path: "Sources/GridPatrolKit"),
    ]
)
