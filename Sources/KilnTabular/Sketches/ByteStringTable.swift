#if canImport(Glibc)
import Glibc
#endif

/// A hash map from byte strings to dense ids `0..<count` in insertion order, without an
/// allocation per lookup: keys live in one arena, the table is open-addressed on `keyHash`.
/// Used to count values (vocabularies, top-k) and to look them up when applying a vocabulary.
/// Lookups are inlinable; loops over many keys use `withFinder`.
public struct ByteStringTable: Sendable {
    @usableFromInline var arena: [UInt8] = []
    @usableFromInline var offsets: [Int] = [0]
    @usableFromInline var hashes: [UInt64] = []
    /// Slot → the key hash's high 32 bits (a tag that settles most mismatches without reading
    /// the key) over id + 1 in the low 32; 0 = empty.
    @usableFromInline var slots: [UInt64] = [UInt64](repeating: 0, count: 16)

    @inlinable static var tagBits: UInt64 { 0xFFFF_FFFF_0000_0000 }

    /// The slot entry of key `id` with hash `hash`.
    @inlinable @inline(__always)
    static func slotEntry(id: Int, hash: UInt64) -> UInt64 { hash & tagBits | UInt64(id + 1) }

    /// The id in a slot entry whose tag is `hash`'s, or nil when the tags differ.
    @inlinable @inline(__always)
    static func id(in entry: UInt64, taggedLike hash: UInt64) -> Int? {
        entry & tagBits == hash & tagBits ? Int(truncatingIfNeeded: entry & ~tagBits) - 1 : nil
    }

    public init() {}

    public var count: Int { hashes.count }

    public func key(_ id: Int) -> String {
        arena.withUnsafeBufferPointer {
            String(decoding: UnsafeBufferPointer(rebasing: $0[offsets[id]..<offsets[id + 1]]), as: UTF8.self)
        }
    }

    /// The hash tables probe with: wyhash's (Wang Yi's) mixing of two 128-bit products for keys
    /// of up to 16 bytes — the words and category names tables mostly hold, in a few cycles —
    /// and XXH64 for longer ones. In no file format (partial analyses store keys, not hashes)
    /// and in no output, so it may change; `XXHash64` is the documented, stable hash.
    @inlinable @inline(__always)
    public static func keyHash(_ key: UnsafeBufferPointer<UInt8>) -> UInt64 {
        let length = key.count
        guard length <= 16 else { return XXHash64.hash(key) }
        var a: UInt64 = 0, b: UInt64 = 0
        if length >= 4, let base = key.baseAddress {
            // Four 4-byte reads covering the key (overlapping when it is shorter than 16).
            let bytes = UnsafeRawPointer(base), step = (length >> 3) << 2
            func word(_ offset: Int) -> UInt64 { UInt64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))) }
            a = word(0) << 32 | word(step)
            b = word(length - 4) << 32 | word(length - 4 - step)
        } else if length > 0 {
            a = UInt64(key[0]) << 16 | UInt64(key[length >> 1]) << 8 | UInt64(key[length - 1])
        }
        // wyhash's secret words; `seed` is its mix of the first two (seed 0).
        let secret0: UInt64 = 0x2D35_8DCC_AA6C_78A5, secret1: UInt64 = 0x8BB8_4B93_962E_ACC9
        let seed: UInt64 = 0xCA81_3BF4_C7AB_F0A9
        let product = (a ^ secret1).multipliedFullWidth(by: b ^ seed)
        let final = (product.low ^ secret0 ^ UInt64(length)).multipliedFullWidth(by: product.high ^ secret1)
        return final.high ^ final.low
    }

    public func withKey<R>(_ id: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try arena.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[offsets[id]..<offsets[id + 1]])) }
    }

    /// Calls `body` with each key's id, bytes and `keyHash`, in id order.
    @inlinable
    public func forEachKey(_ body: (Int, UnsafeBufferPointer<UInt8>, UInt64) throws -> Void) rethrows {
        try withFinder { table in
            for id in 0..<table.count {
                try body(id, UnsafeBufferPointer(rebasing: table.arena[table.offsets[id]..<table.offsets[id + 1]]), table.hashes[id])
            }
        }
    }

    /// The id of `key`, or nil.
    @inlinable @inline(__always)
    public func find(_ key: UnsafeBufferPointer<UInt8>) -> Int? {
        withFinder { $0.find(key) }
    }

    /// As `find(_:)`, with the key's `keyHash` already computed.
    @inlinable @inline(__always)
    public func find(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int? {
        withFinder { $0.find(key, hash: hash) }
    }

    /// Calls `body` with a read-only view of the table for loops that look up many keys: it
    /// holds raw pointers, so closures that capture it retain nothing per call (a table
    /// shared by several threads would otherwise have its reference counts bounce between
    /// cores on every lookup).
    @inlinable @inline(__always)
    public func withFinder<R>(_ body: (Finder) throws -> R) rethrows -> R {
        try arena.withUnsafeBufferPointer { arena in
            try offsets.withUnsafeBufferPointer { offsets in
                try hashes.withUnsafeBufferPointer { hashes in
                    try slots.withUnsafeBufferPointer { slots in
                        try body(Finder(arena: arena, offsets: offsets, hashes: hashes, slots: slots))
                    }
                }
            }
        }
    }

    /// A table's lookups over its buffers, valid inside `withFinder`.
    public struct Finder {
        @usableFromInline let arena: UnsafeBufferPointer<UInt8>
        @usableFromInline let offsets: UnsafeBufferPointer<Int>
        @usableFromInline let hashes: UnsafeBufferPointer<UInt64>
        @usableFromInline let slots: UnsafeBufferPointer<UInt64>

        @inlinable
        init(arena: UnsafeBufferPointer<UInt8>, offsets: UnsafeBufferPointer<Int>,
             hashes: UnsafeBufferPointer<UInt64>, slots: UnsafeBufferPointer<UInt64>) {
            self.arena = arena
            self.offsets = offsets
            self.hashes = hashes
            self.slots = slots
        }

        public var count: Int { hashes.count }

        @inlinable @inline(__always)
        public func find(_ key: UnsafeBufferPointer<UInt8>) -> Int? { find(key, hash: ByteStringTable.keyHash(key)) }

        @inlinable @inline(__always)
        public func find(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int? {
            let mask = slots.count - 1
            var slot = Int(truncatingIfNeeded: hash) & mask
            while true {
                let entry = slots[slot]
                if entry == 0 { return nil }
                if let id = ByteStringTable.id(in: entry, taggedLike: hash), equals(id, key) { return id }
                slot = (slot + 1) & mask
            }
        }

        @inlinable @inline(__always)
        func equals(_ id: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
            let start = offsets[id]
            let length = offsets[id + 1] - start
            guard length == key.count else { return false }
            if length == 0 { return true }
            return ByteStringTable.bytesEqual(arena.baseAddress! + start, key.baseAddress!, length)
        }
    }

    public func find(_ key: String) -> Int? {
        var copy = key
        return copy.withUTF8 { find($0) }
    }

    /// The id of `key`, inserting it (with the next id) when new.
    @inline(__always)
    public mutating func insert(_ key: UnsafeBufferPointer<UInt8>) -> (id: Int, inserted: Bool) {
        insert(key, hash: Self.keyHash(key))
    }

    /// As `insert(_:)`, with the key's `keyHash` already computed.
    @inline(__always)
    public mutating func insert(_ key: UnsafeBufferPointer<UInt8>, hash: UInt64) -> (id: Int, inserted: Bool) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { break }
            if let id = Self.id(in: entry, taggedLike: hash), equals(id, key) { return (id, false) }
            slot = (slot + 1) & mask
        }
        let id = hashes.count
        precondition(id < Int(UInt32.max), "a byte-string table holds fewer than 2^32 - 1 keys")
        hashes.append(hash)
        arena.append(contentsOf: key)
        offsets.append(arena.count)
        slots[slot] = Self.slotEntry(id: id, hash: hash)
        if hashes.count * 2 > slots.count { grow() }
        return (id, true)
    }

    @discardableResult
    public mutating func insert(_ key: String) -> (id: Int, inserted: Bool) {
        var copy = key
        return copy.withUTF8 { insert($0) }
    }

    @inline(__always)
    private func equals(_ id: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        withFinder { $0.equals(id, key) }
    }

    /// memcmp == 0, inline for the short keys tables mostly hold (words, category names).
    @inlinable @inline(__always)
    static func bytesEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ length: Int) -> Bool {
        guard length <= 16 else { return memcmp(a, b, length) == 0 }
        var offset = 0
        while offset + 8 <= length {
            if UnsafeRawPointer(a + offset).loadUnaligned(as: UInt64.self) != UnsafeRawPointer(b + offset).loadUnaligned(as: UInt64.self) {
                return false
            }
            offset += 8
        }
        while offset < length {
            if a[offset] != b[offset] { return false }
            offset += 1
        }
        return true
    }

    private mutating func grow() {
        let capacity = slots.count * 2
        var newSlots = [UInt64](repeating: 0, count: capacity)
        let mask = capacity - 1
        for (id, hash) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: hash) & mask
            while newSlots[slot] != 0 { slot = (slot + 1) & mask }
            newSlots[slot] = Self.slotEntry(id: id, hash: hash)
        }
        slots = newSlots
    }
}
