// swift-tools-version: 6.0
import PackageDescription

// Arrows point one way: NablaCLI and the examples → Nabla → CNablaKernels.
let package = Package(
    name: "Nabla",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Nabla", targets: ["Nabla"]),
        .executable(name: "nabla", targets: ["NablaCLI"]),
        .executable(name: "seed-math", targets: ["SeedMath"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C: GEMM micro-kernels chosen at run time, thread pool, caching allocator.
        .target(name: "CNablaKernels"),
        // Tensors, ops with their gradients, autograd, random numbers.
        .target(name: "Nabla", dependencies: ["CNablaKernels"]),
        .executableTarget(
            name: "NablaCLI",
            dependencies: ["Nabla", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "SeedMath", dependencies: ["Nabla"], path: "Examples/seed-math"),
        .testTarget(name: "NablaTests", dependencies: ["Nabla"]),
    ],
    swiftLanguageModes: [.v6]
)
