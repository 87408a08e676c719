import KilnCore
import KilnTabular

/// Distances between two distributions of one feature, from their statistics.
///
/// Numeric features use the 101 percentiles of each dataset (`percentiles` in the statistics).
/// Each dataset's CDF is piecewise linear through its percentiles: with `k` the number of
/// percentiles ≤ x (numpy: `searchsorted(p, x, side="right")`), F(x) = 0 for k = 0, 1 for
/// k = 101, else ((k − 1) + (x − p[k−1]) / (p[k] − p[k−1])) / 100. The buckets are the
/// baseline's deciles p[10], p[20], …, p[90] (repeated values merged), open at both ends; each
/// dataset's bucket probabilities are differences of its F at the boundaries.
/// - Jensen–Shannon divergence: Σ ½·p·log2(p/m) + ½·q·log2(q/m), m = (p + q)/2 (0 ≤ JS ≤ 1).
/// - Population stability index: Σ (q − p)·ln(q/p), probabilities floored at 1e-4.
/// - Kolmogorov–Smirnov: max |F_baseline(x) − F_current(x)| over every percentile of both.
/// - Wasserstein-1: Σ_k (|P_k − Q_k| + |P_{k+1} − Q_{k+1}|) / 200 (the trapezoid rule on the
///   two quantile functions).
/// Categorical features (strings, booleans) use value frequencies (every value when the
/// statistics list them, else the top values and one bucket for the rest):
/// - L-infinity: max over values of |p(value) − q(value)|.
public enum Comparisons {
    public struct Result: Sendable {
        public var feature: String
        public var comparator: Comparator
        public var value: Double
        /// Every measure that applies (numeric: js, psi, ks, wasserstein; categorical: l_infinity).
        public var measures: [(String, Double)]
        public var anomalous: Bool { value > comparator.threshold }

        var json: JSONValue {
            .object([("feature", .string(feature)), ("comparator", .string(comparator.kind.rawValue)), ("value", .double(value)),
                     ("threshold", .double(comparator.threshold)), ("anomalous", .bool(anomalous)),
                     ("measures", .object(measures.map { ($0.0, .double($0.1)) }))])
        }
    }

    /// Compares `current` with `baseline` for every schema feature that has the comparator and
    /// values in both.
    static func compare(
        _ current: StatisticsSummary, _ baseline: StatisticsSummary, schema: Schema, comparator: (FeatureSchema) -> Comparator?
    ) -> [Result] {
        schema.features.compactMap { feature in
            guard let chosen = comparator(feature), let now = current.feature(feature.name),
                let before = baseline.feature(feature.name), now.present > 0, before.present > 0 else { return nil }
            let measures = self.measures(now, before)
            guard let value = measures.first(where: { $0.0 == chosen.kind.rawValue })?.1 else { return nil }
            return Result(feature: feature.name, comparator: chosen, value: value, measures: measures)
        }
    }

    static func measures(_ current: StatisticsSummary.Feature, _ baseline: StatisticsSummary.Feature) -> [(String, Double)] {
        if current.type == .string || current.type == .bool || current.percentiles.count != 101 || baseline.percentiles.count != 101 {
            return [(Comparator.Kind.lInfinity.rawValue, lInfinity(current, baseline))]
        }
        let q = bucketProbabilities(current.percentiles, boundaries: baseline.percentiles)
        let p = bucketProbabilities(baseline.percentiles, boundaries: baseline.percentiles)
        return [
            (Comparator.Kind.jensenShannon.rawValue, jensenShannon(p, q)),
            (Comparator.Kind.populationStability.rawValue, populationStability(p, q)),
            (Comparator.Kind.kolmogorovSmirnov.rawValue, kolmogorovSmirnov(baseline.percentiles, current.percentiles)),
            (Comparator.Kind.wasserstein.rawValue, wasserstein(baseline.percentiles, current.percentiles)),
        ]
    }

    /// The piecewise-linear CDF through 101 percentiles.
    static func cdf(_ percentiles: [Double], _ x: Double) -> Double {
        var k = 0
        while k < percentiles.count && percentiles[k] <= x { k += 1 }
        if k == 0 { return 0 }
        if k == percentiles.count { return 1 }
        return (Double(k - 1) + (x - percentiles[k - 1]) / (percentiles[k] - percentiles[k - 1])) / 100
    }

    static func bucketProbabilities(_ percentiles: [Double], boundaries baseline: [Double]) -> [Double] {
        var edges: [Double] = []
        for decile in stride(from: 10, through: 90, by: 10) where edges.last.map({ baseline[decile] > $0 }) ?? true {
            edges.append(baseline[decile])
        }
        let cumulative = [0.0] + edges.map { cdf(percentiles, $0) } + [1.0]
        return zip(cumulative, cumulative.dropFirst()).map { max($1 - $0, 0) }
    }

    static func jensenShannon(_ p: [Double], _ q: [Double]) -> Double {
        var total = 0.0
        for (a, b) in zip(p, q) {
            let m = (a + b) / 2
            if a > 0 { total += 0.5 * a * log2(a / m) }
            if b > 0 { total += 0.5 * b * log2(b / m) }
        }
        return max(total, 0)
    }

    static func populationStability(_ p: [Double], _ q: [Double]) -> Double {
        zip(p, q).reduce(0) { total, pair in
            let a = max(pair.0, 1e-4)
            let b = max(pair.1, 1e-4)
            return total + (b - a) * log(b / a)
        }
    }

    static func kolmogorovSmirnov(_ a: [Double], _ b: [Double]) -> Double {
        (a + b).reduce(0) { max($0, abs(cdf(a, $1) - cdf(b, $1))) }
    }

    static func wasserstein(_ a: [Double], _ b: [Double]) -> Double {
        var total = 0.0
        for k in 0..<100 {
            let left = abs(a[k] - b[k])
            let right = abs(a[k + 1] - b[k + 1])
            total += (left + right) / 200
        }
        return total
    }

    /// Value probabilities: every value when listed, else the top values and "other".
    static func distribution(_ feature: StatisticsSummary.Feature) -> [String: Double] {
        let entries = feature.values ?? feature.topValues
        let total = Double(max(feature.present, 1))
        var result: [String: Double] = [:]
        for (value, count) in entries { result[value] = Double(count) / total }
        let listed = entries.reduce(0) { $0 + $1.count }
        if feature.values == nil && listed < feature.present { result["\u{1F}other"] = Double(feature.present - listed) / total }
        return result
    }

    static func lInfinity(_ current: StatisticsSummary.Feature, _ baseline: StatisticsSummary.Feature) -> Double {
        let p = distribution(baseline)
        let q = distribution(current)
        return Set(p.keys).union(q.keys).reduce(0) { max($0, abs((p[$1] ?? 0) - (q[$1] ?? 0))) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
