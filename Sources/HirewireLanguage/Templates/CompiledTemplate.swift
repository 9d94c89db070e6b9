/// A template argument or template-file text, parsed and checked, with where it was written.
public struct CompiledTemplate: Sendable {
    public var template: MustacheTemplate
    /// Where the text stands in its file (for render errors).
    public var text: TemplateText

    public init(template: MustacheTemplate, text: TemplateText) {
        self.template = template
        self.text = text
    }

    /// Parses `text`; a syntax error comes back as a diagnostic at its file position.
    public init(parsing text: TemplateText) throws(Diagnostic) {
        do {
            template = try MustacheTemplate(text.source)
        } catch {
            throw Diagnostic(at: text.location(line: error.line, column: error.column), "template: \(error.message)", code: "template-syntax")
        }
        self.text = text
    }

    /// Renders strictly: a missing value fails with the file position of its tag.
    public func render(_ context: Value, scope: (any RootScope)? = nil, escapeHTML: Bool = false,
                       partials: [String: String] = [:]) throws(Diagnostic) -> String {
        do {
            return try template.render(context, scope: scope, partials: partials, escapeHTML: escapeHTML, strict: true)
        } catch {
            throw Diagnostic(at: text.location(line: error.line, column: error.column), error.message, code: "render-failed")
        }
    }
}

extension TemplateText {
    /// The file position of a 1-based line and column inside this text.
    public func location(line: Int, column: Int) -> SourceLocation {
        if line == 1 { return location.advanced(by: column - 1) }
        if isBlock {
            return SourceLocation(file: location.file, line: location.line + line - 1, column: location.column + column - 1)
        }
        // A quoted or plain scalar spread over lines: YAML folds them, so keep the first line.
        return location
    }
}
