/// 16, 32 or 64 neighbouring floats of one row, held in `SIMD16<Float>` registers: the
/// accumulators of the register-blocked kernels (depthwise convolution, packed GEMM).
protocol LaneGroup {
    /// Floats held: 16, 32 or 64.
    static var width: Int { get }
    init(_ start: SIMD16<Float>)
    init(loading input: UnsafeRawPointer)
    mutating func add(_ x: Self, _ weight: SIMD16<Float>)
    mutating func accumulate(_ input: UnsafeRawPointer, _ weight: SIMD16<Float>)
    func store(_ output: UnsafeMutableRawPointer)
}

struct Lanes16: LaneGroup {
    static var width: Int { 16 }
    var a: SIMD16<Float>
    @inline(__always) init(_ start: SIMD16<Float>) { a = start }
    @inline(__always) init(loading input: UnsafeRawPointer) { a = input.loadUnaligned(as: SIMD16<Float>.self) }
    @inline(__always) mutating func add(_ x: Self, _ weight: SIMD16<Float>) { a.addProduct(x.a, weight) }
    @inline(__always) mutating func accumulate(_ input: UnsafeRawPointer, _ weight: SIMD16<Float>) {
        a.addProduct(input.loadUnaligned(as: SIMD16<Float>.self), weight)
    }
    @inline(__always) func store(_ output: UnsafeMutableRawPointer) {
        output.storeBytes(of: a, as: SIMD16<Float>.self)
    }
}

struct Lanes32: LaneGroup {
    static var width: Int { 32 }
    var a, b: SIMD16<Float>
    @inline(__always) init(_ start: SIMD16<Float>) { (a, b) = (start, start) }
    @inline(__always) init(loading input: UnsafeRawPointer) {
        a = input.loadUnaligned(as: SIMD16<Float>.self)
        b = input.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
    }
    @inline(__always) mutating func add(_ x: Self, _ weight: SIMD16<Float>) {
        a.addProduct(x.a, weight)
        b.addProduct(x.b, weight)
    }
    @inline(__always) mutating func accumulate(_ input: UnsafeRawPointer, _ weight: SIMD16<Float>) {
        a.addProduct(input.loadUnaligned(as: SIMD16<Float>.self), weight)
        b.addProduct(input.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self), weight)
    }
    @inline(__always) func store(_ output: UnsafeMutableRawPointer) {
        output.storeBytes(of: a, as: SIMD16<Float>.self)
        output.storeBytes(of: b, toByteOffset: 64, as: SIMD16<Float>.self)
    }
}

struct Lanes64: LaneGroup {
    static var width: Int { 64 }
    var a, b, c, d: SIMD16<Float>
    @inline(__always) init(_ start: SIMD16<Float>) { (a, b, c, d) = (start, start, start, start) }
    @inline(__always) init(loading input: UnsafeRawPointer) {
        a = input.loadUnaligned(as: SIMD16<Float>.self)
        b = input.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self)
        c = input.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self)
        d = input.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self)
    }
    @inline(__always) mutating func add(_ x: Self, _ weight: SIMD16<Float>) {
        a.addProduct(x.a, weight)
        b.addProduct(x.b, weight)
        c.addProduct(x.c, weight)
        d.addProduct(x.d, weight)
    }
    @inline(__always) mutating func accumulate(_ input: UnsafeRawPointer, _ weight: SIMD16<Float>) {
        a.addProduct(input.loadUnaligned(as: SIMD16<Float>.self), weight)
        b.addProduct(input.loadUnaligned(fromByteOffset: 64, as: SIMD16<Float>.self), weight)
        c.addProduct(input.loadUnaligned(fromByteOffset: 128, as: SIMD16<Float>.self), weight)
        d.addProduct(input.loadUnaligned(fromByteOffset: 192, as: SIMD16<Float>.self), weight)
    }
    @inline(__always) func store(_ output: UnsafeMutableRawPointer) {
        output.storeBytes(of: a, as: SIMD16<Float>.self)
        output.storeBytes(of: b, toByteOffset: 64, as: SIMD16<Float>.self)
        output.storeBytes(of: c, toByteOffset: 128, as: SIMD16<Float>.self)
        output.storeBytes(of: d, toByteOffset: 192, as: SIMD16<Float>.self)
    }
}
