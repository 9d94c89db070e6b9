/// One semantic change between two versions of a flow.
public struct FlowChange: Sendable, Hashable {
    /// `+` added, `-` removed, `~` changed, `!` a warning about live journeys.
    public var op: String
    /// What changed: `setting`, `state`, `transition`, `timer`, `action`, `choose`, `template`, `calendar`, `journeys`.
    public var element: String
    public var text: String
    /// The new side's file and line, where there is one.
    public var file: String?
    public var line: Int?

    public init(_ op: String, _ element: String, _ text: String, file: String? = nil, line: Int? = nil) {
        self.op = op
        self.element = element
        self.text = text
        self.file = file
        self.line = line
    }
}

/// The semantic difference between two versions of one flow.
public struct FlowDiff: Sendable {
    public var flow: String
    public var oldVersion: String?
    public var newVersion: String?
    public var changes: [FlowChange]
    /// Old state name → new state name, for states whose whole body moved under a new name.
    public var renames: [String: String]
    public var isEmpty: Bool { changes.isEmpty }
}

/// Compares compiled machines, not text: key order, formatting and comments make no difference.
public enum SemanticDiff {
    /// The changes from `old` to `new` (either may be nil: an added or removed flow). Templates
    /// and calendars the flow uses are compared between the two projects.
    public static func diff(old: Machine?, new: Machine?, oldProject: CompiledProject?, newProject: CompiledProject?) -> FlowDiff {
        let flow = new?.id ?? old?.id ?? "?"
        var out = FlowDiff(flow: flow, oldVersion: old?.version, newVersion: new?.version, changes: [], renames: [:])
        guard let old, let new else {
            if let new { out.changes.append(FlowChange("+", "flow", "flow \(new.id) added", file: new.file, line: 1)) }
            if let old { out.changes.append(FlowChange("-", "flow", "flow \(old.id) removed")) }
            return out
        }
        var builder = DiffBuilder(old: Outline(old), new: Outline(new))
        builder.compare()
        builder.compareResources(oldProject: oldProject, newProject: newProject)
        out.changes = builder.changes
        out.renames = builder.renames
        return out
    }
}

/// Collects the changes between two outlines.
struct DiffBuilder {
    let old: Outline
    let new: Outline
    var changes: [FlowChange] = []
    var renames: [String: String] = [:]

    init(old: Outline, new: Outline) {
        self.old = old
        self.new = new
    }

    mutating func add(_ op: String, _ element: String, _ text: String, line: Int? = nil) {
        changes.append(FlowChange(op, element, text, file: line == nil ? nil : new.file, line: line))
    }

    mutating func compare() {
        let oldSettings = Dictionary(old.settings.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        let newSettings = Dictionary(new.settings.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        for key in new.settings.map(\.key) + old.settings.map(\.key).filter({ newSettings[$0] == nil }) {
            switch (oldSettings[key], newSettings[key]) {
            case (let a?, let b?) where a != b: add("~", "setting", "\(key): \(a) → \(b)")
            case (nil, let b?): add("+", "setting", "\(key): \(b)")
            case (let a?, nil): add("-", "setting", "\(key): \(a)")
            default: break
            }
        }
        detectRenames()
        let mapped = Set(renames.keys)
        for name in new.order where old.states[name] == nil && !renames.values.contains(name) {
            guard let state = new.states[name] else { continue }
            add("+", "state", "state \(name) (\(state.summary))", line: state.line)
        }
        for name in old.order where new.states[name] == nil && !mapped.contains(name) {
            // Gone from the new file, so placed in the old one.
            add("-", "state", "state \(name)" + (old.states[name].map { " (was at \(old.file):\($0.line))" } ?? ""))
        }
        for (from, to) in renames.sorted(by: { $0.key < $1.key }) {
            add("~", "state", "state \(from) renamed to \(to)", line: new.states[to]?.line)
        }
        for name in old.order {
            let target = renames[name] ?? name
            guard let a = old.states[name]?.renaming(renames), let b = new.states[target], a != b else { continue }
            compareState(target, a, b)
        }
        compareTimers(old.journeyTimers, new.journeyTimers, scope: "journey", line: nil)
    }

    /// A removed state whose whole body reappears under an added name is a rename.
    mutating func detectRenames() {
        let removed = old.order.filter { new.states[$0] == nil }
        var added = new.order.filter { old.states[$0] == nil }
        for name in removed {
            guard let body = old.states[name] else { continue }
            if let match = added.first(where: { candidate in
                var trial = renames
                trial[name] = candidate
                return body.renaming(trial) == new.states[candidate]?.renaming([:])
            }) {
                renames[name] = match
                added.removeAll { $0 == match }
            }
        }
    }

    mutating func compareState(_ name: String, _ a: StateOutline, _ b: StateOutline) {
        let line = b.line
        if a.outcome != b.outcome {
            add("~", "state", "state \(name): end \(a.outcome ?? "(none)") → \(b.outcome ?? "(none)")", line: line)
        }
        compareActions(a.actions, b.actions, scope: "state \(name)", line: line)
        // Transitions, matched by event and position within the event.
        let events = b.transitions.map(\.event) + a.transitions.map(\.event)
        var seen: Set<String> = []
        for event in events where seen.insert(event).inserted {
            let before = a.transitions.filter { $0.event == event }
            let after = b.transitions.filter { $0.event == event }
            for i in 0..<max(before.count, after.count) {
                let x = i < before.count ? before[i] : nil
                let y = i < after.count ? after[i] : nil
                switch (x, y) {
                case (nil, let y?): add("+", "transition", "transition " + arrow(name, y), line: line)
                case (let x?, nil): add("-", "transition", "transition " + arrow(name, x), line: nil)
                case (let x?, let y?) where x != y:
                    if x.target != y.target { add("~", "transition", "transition \(arrow(name, x, withTarget: false)): target \(x.target ?? "(stay)") → \(y.target ?? "(stay)")", line: line) }
                    if x.condition != y.condition { add("~", "transition", "transition \(arrow(name, y, withTarget: false)): guard \(x.condition ?? "(none)") → \(y.condition ?? "(none)")", line: line) }
                    compareActions(x.actions, y.actions, scope: "transition \(arrow(name, y))", line: line)
                default: break
                }
            }
        }
        compareTimers(a.timers, b.timers, scope: "state \(name)", line: line)
        if a.choices != b.choices {
            let text = { (c: [ChoiceOutline]) in c.map { "\($0.condition ?? "else") → \($0.target)" }.joined(separator: "; ") }
            add("~", "choose", "state \(name): choose \(text(a.choices)) → \(text(b.choices))", line: line)
        }
    }

    func arrow(_ state: String, _ t: TransitionOutline, withTarget: Bool = true) -> String {
        "\(state) --\(t.event)\(t.condition.map { " [\($0)]" } ?? "")-->" + (withTarget ? " \(t.target ?? "(stay)")" : "")
    }

    mutating func compareTimers(_ a: [TimerOutline], _ b: [TimerOutline], scope: String, line: Int?) {
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? a[i] : nil
            let y = i < b.count ? b[i] : nil
            switch (x, y) {
            case (nil, let y?): add("+", "timer", "\(scope): timer '\(y.describe)'\(y.target.map { " → \($0)" } ?? "")", line: line)
            case (let x?, nil): add("-", "timer", "\(scope): timer '\(x.describe)'\(x.target.map { " → \($0)" } ?? "")")
            case (let x?, let y?) where x != y:
                if x.label != y.label || x.calendar != y.calendar {
                    add("~", "timer", "\(scope): timer '\(x.describe)' → '\(y.describe)'", line: line)
                }
                if x.target != y.target { add("~", "timer", "\(scope): timer '\(y.label)' goto \(x.target ?? "(stay)") → \(y.target ?? "(stay)")", line: line) }
                if x.condition != y.condition { add("~", "timer", "\(scope): timer '\(y.label)' if \(x.condition ?? "(none)") → \(y.condition ?? "(none)")", line: line) }
                if x.late != y.late { add("~", "timer", "\(scope): timer '\(y.label)' late \(x.late ?? "(none)") → \(y.late ?? "(none)")", line: line) }
                compareActions(x.actions, y.actions, scope: "\(scope): timer '\(y.label)'", line: line)
            default: break
            }
        }
    }

    mutating func compareActions(_ a: [ActionOutline], _ b: [ActionOutline], scope: String, line: Int?) {
        for (x, y) in Self.align(a, b, sameKind: { $0.connector == $1.connector }) {
            switch (x, y) {
            case (nil, let y?): add("+", "action", "\(scope): action \(y.summary)", line: line)
            case (let x?, nil): add("-", "action", "\(scope): action \(x.summary)")
            case (let x?, let y?) where x != y:
                var details: [String] = []
                for key in Set(x.arguments.keys).union(y.arguments.keys).sorted() where x.arguments[key] != y.arguments[key] {
                    details.append("\(key) \(x.arguments[key].map { "'\($0)'" } ?? "(none)") → \(y.arguments[key].map { "'\($0)'" } ?? "(none)")")
                }
                let written = { (text: String?) in text.map { Written($0) } }
                let modifiers: [(String, Written?, Written?)] = [("if", x.condition, y.condition), ("audience", written(x.audience), written(y.audience)),
                                                                 ("exempt", written(String(x.exempt)), written(String(y.exempt))),
                                                                 ("retry", written(x.retry), written(y.retry)), ("on_error", written(x.onError), written(y.onError))]
                for (key, p, q) in modifiers where p != q { details.append("\(key) \(p ?? "(none)") → \(q ?? "(none)")") }
                add("~", "action", "\(scope): action \(y.summary): \(details.joined(separator: "; "))", line: line)
            default: break
            }
        }
    }

    /// Aligns two lists by their longest common subsequence; between matches, items of the same
    /// kind pair up as changed and the rest are added or removed.
    static func align<T: Equatable>(_ a: [T], _ b: [T], sameKind: (T, T) -> Bool) -> [(T?, T?)] {
        var table = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var out: [(T?, T?)] = []
        var gapA: [T] = [], gapB: [T] = []
        func flush() {
            var rest = gapB
            for x in gapA {
                if let k = rest.firstIndex(where: { sameKind(x, $0) }) {
                    out.append((x, rest.remove(at: k)))
                } else {
                    out.append((x, nil))
                }
            }
            for y in rest { out.append((nil, y)) }
            gapA = []
            gapB = []
        }
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                flush()
                out.append((a[i], b[j]))
                i += 1
                j += 1
            } else if j < b.count, i == a.count || table[i][j + 1] >= table[i + 1][j] {
                gapB.append(b[j])
                j += 1
            } else {
                gapA.append(a[i])
                i += 1
            }
        }
        flush()
        return out
    }

    /// Templates and calendars the flow uses, compared between the two projects.
    mutating func compareResources(oldProject: CompiledProject?, newProject: CompiledProject?) {
        guard let oldProject, let newProject else { return }
        for name in old.templates.union(new.templates).sorted() {
            let a = oldProject.files.templates[name], b = newProject.files.templates[name]
            guard let b else { continue }
            guard let a else { continue }
            var parts: [String] = []
            if a.subject?.source != b.subject?.source { parts.append("subject") }
            if a.text?.source != b.text?.source { parts.append("text") }
            if a.html?.source != b.html?.source { parts.append("html") }
            if !parts.isEmpty {
                changes.append(FlowChange("~", "template", "template \(name): \(parts.joined(separator: ", ")) changed", file: b.file, line: 1))
            }
        }
        let oldCalendars = Dictionary(oldProject.files.config.calendars.map { ($0.name.value, $0) }, uniquingKeysWith: { a, _ in a })
        for spec in newProject.files.config.calendars where old.calendars.union(new.calendars).contains(spec.name.value) {
            guard let before = oldCalendars[spec.name.value] else { continue }
            let describe = { (c: CalendarSpec) in
                "\(c.timezone?.text ?? "default zone"); \(c.hours.map { "\($0.days.value) \($0.ranges.value)" }.joined(separator: ", ")); holidays \(c.holidays.map(\.value).joined(separator: ", "))"
            }
            if describe(before) != describe(spec) {
                changes.append(FlowChange("~", "calendar", "calendar \(spec.name.value): \(describe(before)) → \(describe(spec))",
                                          file: newProject.files.config.file, line: spec.name.location.line))
            }
        }
    }
}
