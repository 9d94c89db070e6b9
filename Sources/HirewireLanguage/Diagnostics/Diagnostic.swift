/// How bad a diagnostic is: errors stop a flow from loading, warnings do not.
public enum Severity: String, Sendable, Hashable, Codable {
    case error
    case warning
}

/// One problem found in a project file, with a stable code such as `unknown-state`.
public struct Diagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    public var location: SourceLocation
    public var severity: Severity
    public var message: String
    /// A stable kebab-case identifier tests and tools can rely on.
    public var code: String
    /// More problems the same pass found after this one (a file's loader stops at a syntax error
    /// but reports the duplicate keys it met before it, too).
    public var also: [Diagnostic] = []

    public init(_ severity: Severity = .error, at location: SourceLocation, _ message: String, code: String) {
        self.location = location
        self.severity = severity
        self.message = message
        self.code = code
    }

    /// This diagnostic and the ones found with it, in order.
    public var all: [Diagnostic] {
        var head = self
        head.also = []
        return [head] + also.flatMap(\.all)
    }

    /// `path:line:col: error: message [code]`
    public var description: String {
        "\(location): \(severity.rawValue): \(message) [\(code)]"
    }
}

/// Collects diagnostics while compiling; the compiler keeps going after the first error.
public struct DiagnosticBag: Sendable {
    public private(set) var items: [Diagnostic] = []

    public init() {}

    public mutating func error(_ message: String, at location: SourceLocation, code: String) {
        items.append(Diagnostic(.error, at: location, message, code: code))
    }

    public mutating func warning(_ message: String, at location: SourceLocation, code: String) {
        items.append(Diagnostic(.warning, at: location, message, code: code))
    }

    public mutating func append(_ diagnostic: Diagnostic) { items.append(diagnostic) }
    public mutating func append(contentsOf other: [Diagnostic]) { items.append(contentsOf: other) }

    public var hasErrors: Bool { items.contains { $0.severity == .error } }
    public var errorCount: Int { items.count { $0.severity == .error } }
    public var warningCount: Int { items.count { $0.severity == .warning } }

    /// Diagnostics in file, line, column order (stable for equal locations).
    public var sorted: [Diagnostic] {
        items.enumerated().sorted { a, b in
            a.element.location == b.element.location ? a.offset < b.offset : a.element.location < b.element.location
        }.map(\.element)
    }
}

/// Suggests the closest candidate to a misspelt name (Levenshtein distance, bounded).
public enum Suggest {
    /// The best candidate within a distance of about a third of the name's length, or nil.
    public static func closest(to name: String, in candidates: some Sequence<String>) -> String? {
        let limit = max(1, name.count / 3 + 1)
        var best: (String, Int)?
        for candidate in candidates {
            let d = distance(name, candidate)
            if d <= limit, d < (best?.1 ?? Int.max) { best = (candidate, d) }
        }
        return best?.0
    }

    /// ` (did you mean 'x'?)` or the empty string.
    public static func hint(for name: String, in candidates: some Sequence<String>) -> String {
        closest(to: name, in: candidates).map { " (did you mean '\($0)'?)" } ?? ""
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
