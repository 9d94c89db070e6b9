import Foundation

/// The built-in functions: their static signatures and their evaluation.
enum ExprFunctions {
    static let names = ["has", "lower", "upper", "trim", "contains", "starts_with", "ends_with", "len", "matches",
                        "first", "days_between", "now", "coalesce", "string", "number", "header", "sha256"]
    static let sourceOnly: Set<String> = ["header", "sha256"]

    static func check(_ name: String, _ args: [Expr], at offset: Int, checker: ExprChecker) throws(ExprError) -> ExprType {
        guard names.contains(name) else {
            throw ExprError("unknown function '\(name)'\(Suggest.hint(for: name, in: names))", at: offset, code: "unknown-function")
        }
        if sourceOnly.contains(name), !checker.scope.isSourceMode {
            throw ExprError("\(name)() is only available in source files", at: offset, code: "unknown-function")
        }
        func arity(_ range: ClosedRange<Int>) throws(ExprError) {
            guard range.contains(args.count) else {
                let expected = range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound) or more"
                throw ExprError("\(name)() takes \(expected) argument\(range.upperBound == 1 ? "" : "s"), got \(args.count)",
                                at: offset, code: "wrong-arity")
            }
        }
        if name == "has" {
            try arity(1...1)
            guard args[0].pathComponents != nil else {
                throw ExprError("has() takes a path such as candidate.email", at: args[0].offset, code: "expression-type")
            }
            _ = try checker.check(args[0])
            return .bool
        }
        var types: [ExprType] = []
        for arg in args { types.append(try checker.check(arg)) }
        let anyNull = types.contains { $0.nullable }
        func arg(_ i: Int, _ kind: ExprType.Kind, _ what: String) throws(ExprError) {
            try checker.need(types[i], kind, args[i], "\(name)() needs \(what)")
        }
        switch name {
        case "lower", "upper", "trim":
            try arity(1...1); try arg(0, .string, "a string")
            return ExprType(.string, nullable: anyNull)
        case "contains":
            try arity(2...2)
            let k = types[0].kind
            guard k == .string || k == .list || k == .any || k == .null else {
                throw ExprError("contains() needs a string or a list, not \(types[0])", at: args[0].offset, code: "expression-type")
            }
            return ExprType(.bool, nullable: anyNull)
        case "starts_with", "ends_with":
            try arity(2...2); try arg(0, .string, "strings"); try arg(1, .string, "strings")
            return ExprType(.bool, nullable: anyNull)
        case "len":
            try arity(1...1)
            let k = types[0].kind
            guard [.string, .list, .object, .any, .null].contains(k) else {
                throw ExprError("len() needs a string, list or object, not \(types[0])", at: args[0].offset, code: "expression-type")
            }
            return ExprType(.number, nullable: anyNull)
        case "matches":
            try arity(2...2); try arg(0, .string, "a string"); try arg(1, .string, "a regular expression")
            if case .literal(.string(let pattern)) = args[1].kind, (try? NSRegularExpression(pattern: pattern)) == nil {
                throw ExprError("invalid regular expression '\(pattern)'", at: args[1].offset, code: "expression-type")
            }
            return ExprType(.bool, nullable: anyNull)
        case "first":
            try arity(1...1); try arg(0, .list, "a list")
            return .any
        case "days_between":
            try arity(2...2); try arg(0, .timestamp, "timestamps"); try arg(1, .timestamp, "timestamps")
            return ExprType(.number, nullable: anyNull)
        case "now":
            try arity(0...0)
            return .timestamp
        case "coalesce":
            try arity(1...Int.max)
            var result = types[0]
            for t in types.dropFirst() {
                if !result.nullable { break }
                var joined = ExprType.join(result.nonNull, t)
                joined.nullable = t.nullable
                result = joined
            }
            return result
        case "string":
            try arity(1...1)
            return ExprType(.string, nullable: anyNull)
        case "number":
            try arity(1...1)
            return ExprType(.number, nullable: true)
        case "header":
            try arity(1...1); try arg(0, .string, "a header name")
            return ExprType(.string, nullable: true)
        case "sha256":
            try arity(1...1)
            guard args[0].pathComponents == ["body"] else {
                throw ExprError("sha256() takes body, the raw payload", at: args[0].offset, code: "expression-type")
            }
            return .string
        default:
            return .any
        }
    }
}
