/// Timers ordered by deadline (then by scheduling order); removal by ID.
struct TimerHeap {
    typealias ID = UInt64

    private var heap: [(deadline: UInt64, id: ID)] = []
    private var work: [ID: () -> Void] = [:]
    private var nextID: ID = 0

    var nextDeadline: UInt64? {
        mutating get {
            while let top = heap.first, work[top.id] == nil { pop() }  // removed timers
            return heap.first?.deadline
        }
    }

    mutating func insert(deadline: UInt64, _ body: @escaping () -> Void) -> ID {
        nextID &+= 1
        work[nextID] = body
        heap.append((deadline, nextID))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
        return nextID
    }

    mutating func remove(_ id: ID) { work[id] = nil }

    /// The work of the earliest timer due at `now`, taken off the heap.
    mutating func popDue(now: UInt64) -> (() -> Void)? {
        while let top = heap.first, top.deadline <= now {
            pop()
            if let body = work.removeValue(forKey: top.id) { return body }
        }
        return nil
    }

    private func precedes(_ a: (deadline: UInt64, id: ID), _ b: (deadline: UInt64, id: ID)) -> Bool {
        a.deadline < b.deadline || (a.deadline == b.deadline && a.id < b.id)
    }

    private mutating func pop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var first = parent
            if left < heap.count, precedes(heap[left], heap[first]) { first = left }
            if right < heap.count, precedes(heap[right], heap[first]) { first = right }
            guard first != parent else { return }
            heap.swapAt(parent, first)
            parent = first
        }
    }
}
