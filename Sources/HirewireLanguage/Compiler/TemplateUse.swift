/// Checks templates where a flow uses them: inline template arguments and `template:` files.
/// Every variable must be present (a required field, a non-null `let`, `journey`, `state`,
/// a listed `env` name) or guarded by a section or by the action's `if: has(field)`.
struct TemplateUse {
    let project: ProjectContext
    let scope: FlowScope
    let reader: NodeReader

    /// Parses an inline template argument and checks its variables.
    func compileInline(_ text: TemplateText, guarded: Set<String>) -> CompiledTemplate? {
        let template: MustacheTemplate
        do {
            template = try MustacheTemplate(text.source)
        } catch {
            reader.error("template: \(error.message)", at: text.location(line: error.line, column: error.column), code: "template-syntax")
            return nil
        }
        checkVariables(template, text: text, guarded: guarded, usedAt: nil)
        return CompiledTemplate(template: template, text: text)
    }

    /// Checks a `template: NAME` reference and the variables of that template's texts.
    func check(_ name: Located<String>, guarded: Set<String>) {
        guard let spec = project.templates[name.value] else {
            let names = project.templates.keys.sorted()
            reader.error("unknown template '\(name.value)'\(Suggest.hint(for: name.value, in: names)) (templates live in templates/NAME.yaml)",
                         at: name.location, code: "unknown-template")
            return
        }
        for text in [spec.subject, spec.text, spec.html].compactMap({ $0 }) {
            // Syntax errors in template files are reported once, by TemplateChecks.
            guard let template = try? MustacheTemplate(text.source) else { continue }
            checkVariables(template, text: text, guarded: guarded, usedAt: name.location)
        }
    }

    private func checkVariables(_ template: MustacheTemplate, text: TemplateText, guarded: Set<String>, usedAt: SourceLocation?) {
        for variable in template.variables {
            let at = text.location(line: variable.line, column: variable.column)
            if let problem = problem(variable, guarded: guarded) {
                let usage = usedAt.map { " (template used at \($0))" } ?? ""
                reader.error("\(problem.message)\(usage)", at: at, code: problem.code)
            }
        }
    }

    /// Whether a section name is a path to an object (an entity), as the checker knows it.
    private func isObject(_ section: String) -> Bool {
        let parts = section.split(separator: ".").map(String.init)
        guard let root = parts.first, case .type(let t) = scope.resolve(root: root, members: Array(parts.dropFirst())) else { return false }
        return t.kind == .object
    }

    /// Why a variable may render missing, or nil when it is safe.
    func problem(_ variable: MustacheVariable, guarded: Set<String>) -> (message: String, code: String)? {
        let name = variable.name
        if name == "." {
            return variable.sections.isEmpty ? ("'{{.}}' outside a section has nothing to show", "unguarded-variable") : nil
        }
        var candidates = [name]
        for section in variable.sections.reversed() { candidates.append(section + "." + name) }
        // Inside a section over an object (an entity such as `{{#hiring_manager}}`), a plain
        // name is that object's field and nothing else, as strict rendering reads it.
        if !name.contains("."), let innermost = variable.sections.last, isObject(innermost) {
            candidates = [innermost + "." + name]
        }
        var firstError: (String, String)?
        for candidate in candidates {
            if guarded.contains(candidate) || variable.sections.contains(candidate) { return nil }
            let parts = candidate.split(separator: ".").map(String.init)
            guard let root = parts.first else { continue }
            switch scope.resolve(root: root, members: Array(parts.dropFirst())) {
            case .type(let t):
                if t.kind == .object || t.kind == .list {
                    let noun = t.kind == .list ? "a list" : "an object"
                    return ("'{{\(name)}}' is \(noun) (\(candidate)); name one of its fields, such as {{\(candidate).id}}, or loop over it with a section", "template-object")
                }
                if !t.nullable { return nil }
                if firstError == nil || firstError?.1 != "unguarded-variable" {
                    firstError = ("'{{\(name)}}' may be missing: \(candidate) is optional for this flow; list it in require, or guard it with {{#\(candidate)}}…{{/\(candidate)}} or the action's if: has(\(candidate))",
                                  "unguarded-variable")
                }
            case .unknownRoot(let suggestion):
                if firstError == nil {
                    firstError = ("unknown name '\(root)' in '{{\(name)}}'\(suggestion.map { " (did you mean '\($0)'?)" } ?? "")", "unknown-name")
                }
            case .invalid(let message, let code):
                if firstError == nil { firstError = ("'{{\(name)}}': \(message)", code) }
            }
        }
        return firstError.map { (message: $0.0, code: $0.1) }
    }
}

/// A message template file, parsed: what `email` renders its subject, text and html from.
public struct MessageTemplate: Sendable {
    public var name: String
    public var subject: CompiledTemplate?
    public var text: CompiledTemplate?
    public var html: CompiledTemplate?
}

/// Parses every template file once and reports syntax errors at their file positions.
struct TemplateChecks {
    let templates: [String: TemplateSpec]
    let reader: NodeReader

    @discardableResult
    func run() -> [String: MessageTemplate] {
        var out: [String: MessageTemplate] = [:]
        for (name, spec) in templates.sorted(by: { $0.key < $1.key }) {
            func parse(_ text: TemplateText?) -> CompiledTemplate? {
                guard let text else { return nil }
                do {
                    return try CompiledTemplate(parsing: text)
                } catch {
                    reader.append(error)
                    return nil
                }
            }
            out[name] = MessageTemplate(name: name, subject: parse(spec.subject), text: parse(spec.text), html: parse(spec.html))
        }
        return out
    }
}
