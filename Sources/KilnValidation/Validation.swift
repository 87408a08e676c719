import KilnCore
import KilnTabular

/// One violation of the schema (or a drift/skew value above its threshold).
public struct Anomaly: Sendable, Equatable {
    public enum Severity: String, Sendable { case error, warning }
    public var feature: String
    public var type: String
    public var severity: Severity
    public var shortDescription: String
    public var description: String

    var json: JSONValue {
        .object([("feature", .string(feature)), ("type", .string(type)), ("severity", .string(severity.rawValue)),
                 ("short_description", .string(shortDescription)), ("description", .string(description))])
    }
}

/// The result of validating statistics: anomalies, and drift/skew values for every compared
/// feature (`kiln.anomalies/1`).
public struct ValidationReport: Sendable {
    public static let format = "kiln.anomalies/1"
    public var anomalies: [Anomaly] = []
    public var drift: [Comparisons.Result] = []
    public var skew: [Comparisons.Result] = []

    public var json: JSONValue {
        .object([
            ("format", .string(Self.format)), ("num_anomalies", .int(anomalies.count)),
            ("anomalies", .array(anomalies.map(\.json))),
            ("drift", .array(drift.map(\.json))), ("skew", .array(skew.map(\.json))),
        ])
    }
}

public enum Validator {
    /// Checks `statistics` against `schema` (only the features in `environment`, when given),
    /// and compares them with the previous span (`baseline`: drift) and with serving data
    /// (`serving`: skew) using the schema's comparators.
    public static func validate(
        _ statistics: StatisticsSummary, schema: Schema, environment: String? = nil,
        baseline: StatisticsSummary? = nil, serving: StatisticsSummary? = nil
    ) throws -> ValidationReport {
        if let environment, !schema.defaultEnvironments.isEmpty, !schema.defaultEnvironments.contains(environment) {
            throw KilnError.invalidArgument("unknown environment '\(environment)'; the schema has \(schema.defaultEnvironments.joined(separator: ", "))")
        }
        var report = ValidationReport()
        func add(_ feature: String, _ type: String, _ short: String, _ long: String, severity: Anomaly.Severity = .error) {
            report.anomalies.append(Anomaly(feature: feature, type: type, severity: severity, shortDescription: short, description: long))
        }
        let inEnvironment = schema.features.filter { feature in environment.map { !feature.notInEnvironments.contains($0) } ?? true }
        let examples = statistics.validRows
        if examples < schema.minimumExamples {
            add("", "DATASET_LOW_NUM_EXAMPLES", "Too few examples", "The dataset has \(examples) valid rows; the schema requires at least \(schema.minimumExamples).")
        }
        if let maximum = schema.maximumExamples, examples > maximum {
            add("", "DATASET_HIGH_NUM_EXAMPLES", "Too many examples", "The dataset has \(examples) valid rows; the schema allows at most \(maximum).")
        }
        let invalid = statistics.rows - statistics.validRows
        if invalid > 0 {
            let reasons = statistics.invalidRows.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            add("", "INVALID_ROWS", "Malformed rows", "\(invalid) of \(statistics.rows) rows are malformed (\(reasons)) and were not summarised.",
                severity: .warning)
        }
        for feature in statistics.features where schema.feature(feature.name) == nil {
            add(feature.name, "SCHEMA_NEW_COLUMN", "New column", "New column \(feature.name) (\(feature.type.rawValue)) is not in the schema.")
        }
        for expected in inEnvironment {
            guard let feature = statistics.feature(expected.name) else {
                add(expected.name, "SCHEMA_MISSING_COLUMN", "Column dropped", "Column \(expected.name) is in the schema but not in the data.")
                continue
            }
            let compatible = feature.type == expected.type || (expected.type == .float && (feature.type == .int || feature.type == .bool))
            if !compatible {
                add(expected.name, "UNEXPECTED_DATA_TYPE", "Unexpected data type",
                    "Expected \(expected.type.rawValue) values, found \(feature.type.rawValue).")
                continue
            }
            let total = feature.present + feature.missing
            if feature.presentFraction < expected.minimumFraction || feature.present < expected.minimumCount {
                add(expected.name, "FEATURE_PRESENCE_TOO_SMALL", "Column missing in some examples",
                    "The feature is present in \(feature.present) of \(total) examples (\(percent(feature.presentFraction))); the schema requires a fraction of at least \(expected.minimumFraction) and \(expected.minimumCount) examples.")
            }
            if let domain = expected.domain, feature.type == .string {
                let allowed = Set(domain)
                let listed = feature.values ?? feature.topValues
                let unexpected = listed.filter { !allowed.contains($0.value) }
                if !unexpected.isEmpty {
                    let count = unexpected.reduce(0) { $0 + $1.count }
                    let fraction = Double(count) / Double(max(feature.present, 1))
                    let names = unexpected.prefix(10).map { "'\($0.value)'" }.joined(separator: ", ")
                    add(expected.name, "ENUM_TYPE_UNEXPECTED_STRING_VALUES", "Unexpected string values",
                        "Examples contain values missing from the schema: \(names)\(unexpected.count > 10 ? ", …" : "") (\(percent(fraction)) of the values).")
                }
            }
            if let range = expected.range, let low = feature.min, let high = feature.max, low < range.lowerBound || high > range.upperBound {
                add(expected.name, "VALUE_OUT_OF_RANGE", "Out-of-range values",
                    "Values span [\(low), \(high)]; the schema allows [\(range.lowerBound), \(range.upperBound)].")
            }
            if feature.nanCount > 0 && !expected.allowNaN {
                add(expected.name, "FLOAT_TYPE_HAS_NAN", "Invalid values", "\(feature.nanCount) values are NaN, which the schema does not allow.")
            }
            if feature.infinityCount > 0 && !expected.allowInfinity {
                add(expected.name, "FLOAT_TYPE_HAS_INFINITY", "Invalid values", "\(feature.infinityCount) values are infinite, which the schema does not allow.")
            }
        }
        let compared = Schema(features: inEnvironment)
        if let baseline {
            try checkSameColumns(statistics, baseline, "baseline")
            report.drift = Comparisons.compare(statistics, baseline, schema: compared) { $0.driftComparator }
            for result in report.drift where result.anomalous {
                add(result.feature, comparatorType(result.comparator.kind), "High drift",
                    "The \(result.comparator.kind.rawValue) distance between the current and previous data is \(result.value), above the threshold \(result.comparator.threshold).")
            }
        }
        if let serving {
            try checkSameColumns(statistics, serving, "serving")
            report.skew = Comparisons.compare(serving, statistics, schema: compared) { $0.skewComparator }
            for result in report.skew where result.anomalous {
                add(result.feature, comparatorType(result.comparator.kind), "High skew",
                    "The \(result.comparator.kind.rawValue) distance between the serving and training data is \(result.value), above the threshold \(result.comparator.threshold).")
            }
        }
        return report
    }

    /// TFDV's anomaly names for comparator violations.
    static func comparatorType(_ kind: Comparator.Kind) -> String {
        switch kind {
        case .lInfinity: "COMPARATOR_L_INFTY_HIGH"
        case .jensenShannon: "COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH"
        case .populationStability: "COMPARATOR_PSI_HIGH"
        case .kolmogorovSmirnov: "COMPARATOR_KS_HIGH"
        case .wasserstein: "COMPARATOR_WASSERSTEIN_HIGH"
        }
    }

    /// Comparing datasets with different columns is an error (the columns' anomalies are
    /// reported against the schema, not through the comparison).
    static func checkSameColumns(_ current: StatisticsSummary, _ other: StatisticsSummary, _ what: String) throws {
        let mine = Set(current.features.map(\.name))
        let theirs = Set(other.features.map(\.name))
        guard mine == theirs else {
            let onlyMine = mine.subtracting(theirs).sorted().map { "'\($0)'" }.joined(separator: ", ")
            let onlyTheirs = theirs.subtracting(mine).sorted().map { "'\($0)'" }.joined(separator: ", ")
            throw KilnError.shapeMismatch(
                "the \(what) statistics have different columns (only in the data: \(onlyMine.isEmpty ? "none" : onlyMine); only in the \(what): \(onlyTheirs.isEmpty ? "none" : onlyTheirs))")
        }
    }

    static func percent(_ fraction: Double) -> String { "\((fraction * 10000).rounded() / 100)%" }
}
