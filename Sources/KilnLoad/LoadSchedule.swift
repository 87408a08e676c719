/// The load level over time as a piecewise-linear curve from the start of the run (warm-up
/// included): requests per second (open loop) or users (closed loop). The warm-up holds the
/// starting level; each stage then moves linearly from the previous level to its target.
struct LoadSchedule: Sendable {
    /// A linear piece from `start` to `end` seconds, level `from` to `to`, with `before`
    /// requests intended before it.
    struct Piece: Sendable {
        var start: Double
        var end: Double
        var from: Double
        var to: Double
        var before: Double

        var count: Double { (from + to) / 2 * (end - start) }
    }

    let pieces: [Piece]
    var end: Double { pieces.last?.end ?? 0 }

    init(level: Double, warmup: Double, duration: Double, stages: [LoadStage]) {
        var pieces: [Piece] = []
        var time = 0.0, total = 0.0
        func add(_ length: Double, _ from: Double, _ to: Double) {
            let piece = Piece(start: time, end: time + length, from: from, to: to, before: total)
            pieces.append(piece)
            time += length
            total += piece.count
        }
        // The warm-up holds the level the measured part starts from.
        if warmup > 0 { add(warmup, level, level) }
        if stages.isEmpty {
            add(duration, level, level)
        } else {
            var current = level
            for stage in stages {
                add(stage.duration, current, stage.target)
                current = stage.target
            }
        }
        self.pieces = pieces
    }

    /// The level at `time` seconds.
    func level(at time: Double) -> Double {
        guard let piece = pieces.first(where: { time < $0.end }) else { return pieces.last?.to ?? 0 }
        return piece.from + (piece.to - piece.from) * (time - piece.start) / (piece.end - piece.start)
    }

    /// When request `index` (0, 1, 2 ...) is intended, in seconds from the start: the time at
    /// which the integral of the rate reaches `index`; nil past the end. `cursor` remembers the
    /// piece for increasing indices.
    func intendedTime(of index: Int, cursor: inout Int) -> Double? {
        let target = Double(index)
        while cursor < pieces.count, target >= pieces[cursor].before + pieces[cursor].count {
            cursor += 1
        }
        guard cursor < pieces.count else { return nil }
        let piece = pieces[cursor]
        let needed = target - piece.before
        let length = piece.end - piece.start
        let slope = (piece.to - piece.from) / length  // rate(t) = from + slope * t
        // Solve from * t + slope / 2 * t^2 = needed for the smallest t >= 0.
        var offset = 0.0
        if needed > 0 {
            if abs(slope) < 1e-12 {
                offset = needed / piece.from
            } else {
                let discriminant = max(0, piece.from * piece.from + 2 * slope * needed)
                offset = 2 * needed / (piece.from + discriminant.squareRoot())
            }
        }
        return piece.start + min(max(offset, 0), length)
    }
}

extension LoadSchedule {
    /// How many requests are intended before `time` seconds.
    func requests(before time: Double) -> Int {
        var total = 0.0
        for piece in pieces {
            if time >= piece.end {
                total = piece.before + piece.count
                continue
            }
            if time > piece.start {
                let offset = time - piece.start
                let slope = (piece.to - piece.from) / (piece.end - piece.start)
                total = piece.before + piece.from * offset + slope / 2 * offset * offset
            }
            break
        }
        return Int((total - 1e-9).rounded(.up))
    }
}
