// swift-tools-version: 6.0
import Foundation
import PackageDescription

// Arrows point one way: NablaCLI and the examples → NablaNN, NablaData → Nabla → CNablaKernels.
let package = Package(
    name: "Nabla",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Nabla", targets: ["Nabla"]),
        .library(name: "NablaNN", targets: ["NablaNN"]),
        .library(name: "NablaData", targets: ["NablaData"]),
        .executable(name: "nabla", targets: ["NablaCLI"]),
        .executable(name: "seed-math", targets: ["SeedMath"]),
        .executable(name: "seed-keras", targets: ["SeedKeras"]),
        .executable(name: "moons", targets: ["Moons"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C: GEMM micro-kernels chosen at run time, thread pool, caching allocator.
        .target(name: "CNablaKernels"),
        // The system zlib, for .npz archives.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // Tensors, ops with their gradients, autograd, random numbers.
        .target(name: "Nabla", dependencies: ["CNablaKernels", "CZlib"]),
        // Layers, losses, optimizers, metrics, the Keras-style Model, callbacks. The optimizers call
        // their fused update kernels (optim.c) directly.
        .target(name: "NablaNN", dependencies: ["Nabla", "CNablaKernels"]),
        // Data sets and readers: the embedded digits, CSV files, splits.
        .target(name: "NablaData", dependencies: ["Nabla", "CZlib"]),
        .executableTarget(
            name: "NablaCLI",
            dependencies: ["Nabla", "NablaNN", "NablaData", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "SeedMath", dependencies: ["Nabla"], path: "Examples/seed-math"),
        .executableTarget(name: "SeedKeras", dependencies: ["Nabla", "NablaNN"], path: "Examples/seed-keras"),
        .executableTarget(name: "Moons", dependencies: ["Nabla", "NablaNN"], path: "Examples/moons"),
        .testTarget(name: "NablaTests", dependencies: ["Nabla"]),
        .testTarget(name: "NablaDataTests", dependencies: ["Nabla", "NablaData"]),
        .testTarget(name: "NablaNNTests", dependencies: ["Nabla", "NablaNN", "NablaData", "CZlib"]),
    ],
    swiftLanguageModes: [.v6]
)

// Data-parallel training over Open MPI, built only with NABLA_MPI=1 (where `libopenmpi-dev` or
// Homebrew's `open-mpi` is installed), so that the default build needs nothing but the toolchain:
// CMPI is the system header, CNablaMPI the C shim Swift can call, NablaMPI the communicator, and the
// `nabla` tool gains `--distributed`.
if ProcessInfo.processInfo.environment["NABLA_MPI"] != nil {
    package.targets += [
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"]), .brew(["open-mpi"])]),
        .target(name: "CNablaMPI", dependencies: ["CMPI"]),
        .target(name: "NablaMPI", dependencies: ["Nabla", "NablaNN", "CNablaMPI"]),
    ]
    package.products.append(.library(name: "NablaMPI", targets: ["NablaMPI"]))
    if let cli = package.targets.first(where: { $0.name == "NablaCLI" }) {
        cli.dependencies.append("NablaMPI")
    }
}

// Fuzz targets for every file reader (libFuzzer supplies `main`, hence -parse-as-library). They exist
// only when NABLA_FUZZ is set, as .ci/run does for `swift build --sanitize=fuzzer --product fuzz-...`,
// so that the default build stays free of them.
if ProcessInfo.processInfo.environment["NABLA_FUZZ"] != nil {
for (name, deps) in [("SafeTensors", ["Nabla"]), ("NumPy", ["Nabla"]), ("NumPyArchive", ["Nabla"]),
                     ("ModelConfig", ["Nabla", "NablaNN"]), ("CSV", ["Nabla", "NablaData"]), ("IDX", ["Nabla", "NablaData"]),
                     ("LabelledText", ["Nabla", "NablaData"]), ("WAV", ["Nabla"]), ("Interactions", ["Nabla", "NablaData"]),
                     ("ONNX", ["Nabla", "NablaNN"])] {
    package.targets.append(.executableTarget(
        name: "Fuzz\(name)", dependencies: deps.map { .target(name: $0) }, path: "Fuzz/\(name)",
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
    package.products.append(.executable(name: "fuzz-\(name.lowercased())", targets: ["Fuzz\(name)"]))
}
}
