import Foundation
import XCTest
@testable import HirewireLanguage

/// The bundled files validate against schemas/, the schemas use only what the validator
/// understands, and the event schemas agree with the compiler's catalog.
final class SchemaTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    func schema(_ relative: String) throws -> JSONSchema {
        let data = try XCTUnwrap(FileManager.default.contents(atPath: Self.repo + "/schemas/" + relative), relative)
        return JSONSchema(try Value.parseJSON(data))
    }

    func files(_ folder: String, suffix: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: Self.repo + "/" + folder).filter { $0.hasSuffix(suffix) }.sorted()
            .map { folder + "/" + $0 }
    }

    func yaml(_ relative: String) throws -> Value {
        try YAMLLoader.loadFile(Self.repo + "/" + relative, displayPath: relative).toValue()
    }

    func testBundledFlowsValidateAgainstFlowSchema() throws {
        let flowSchema = try schema("flow.json")
        let flows = try files("flows", suffix: ".yaml").filter { !$0.hasSuffix(".test.yaml") }
        XCTAssertEqual(flows.count, 4)
        for flow in flows {
            XCTAssertEqual(flowSchema.validate(try yaml(flow)).map(\.description), [], flow)
        }
    }

    func testBundledSourcesValidateAgainstSourceSchema() throws {
        let sourceSchema = try schema("source.json")
        let sources = try files("sources", suffix: ".yaml")
        XCTAssertEqual(sources.count, 4)
        for source in sources {
            XCTAssertEqual(sourceSchema.validate(try yaml(source)).map(\.description), [], source)
        }
    }

    func testTemplatesAndConfigValidate() throws {
        let templateSchema = try schema("template.json")
        for template in try files("templates", suffix: ".yaml") {
            XCTAssertEqual(templateSchema.validate(try yaml(template)).map(\.description), [], template)
        }
        XCTAssertEqual(try schema("config.json").validate(try yaml("hirewire.yaml")).map(\.description), [])
        let testSchema = try schema("test.json")
        let tests = try files("flows/tests", suffix: ".test.yaml")
        XCTAssertGreaterThanOrEqual(tests.count, 20)
        for test in tests {
            XCTAssertEqual(testSchema.validate(try yaml(test)).map(\.description), [], test)
        }
    }

    /// The editor schema offers the timeline kinds the checks accept, no more and no fewer.
    func testTestSchemaListsTheTimelineKinds() throws {
        let kinds = try schema("test.json").root["properties"]["expect"]["items"]["properties"]["kind"]["enum"]
        XCTAssertEqual(Set(kinds.arrayValue?.compactMap(\.stringValue) ?? []), FlowTestVocabulary.timelineKinds)
    }

    func testExampleEventsValidateAgainstTheirTypes() throws {
        let events = try files("examples/events", suffix: ".json")
        XCTAssertGreaterThanOrEqual(events.count, 10)
        for file in events {
            let event = try Value.parseJSON(try XCTUnwrap(FileManager.default.contents(atPath: Self.repo + "/" + file)))
            let type = try XCTUnwrap(event["type"].stringValue)
            XCTAssertEqual(try schema("events/\(type).json").validate(event).map(\.description), [], file)
        }
    }

    func testEventSchemasAgreeWithCatalog() throws {
        for type in EventCatalog.v1.typeNames {
            let s = try schema("events/\(type).json").root
            var required: Set<String> = []
            for entity in s["properties"]["data"]["required"].arrayValue?.compactMap(\.stringValue) ?? [] {
                for field in s["properties"]["data"]["properties"][entity]["required"].arrayValue?.compactMap(\.stringValue) ?? [] {
                    required.insert("\(entity).\(field)")
                }
            }
            XCTAssertEqual(required, EventCatalog.v1.requiredFields(for: type), type)
            for entity in EventCatalog.v1.entityNames {
                let fields = Set(s["properties"]["data"]["properties"][entity]["properties"].objectValue?.keys.map { $0 } ?? [])
                XCTAssertEqual(fields, Set(EventCatalog.v1.fieldNames(entity: entity)), "\(type) \(entity)")
            }
        }
        XCTAssertEqual(try files("schemas/events", suffix: ".json").count, EventCatalog.v1.typeNames.count)
    }

    func testSchemasUseOnlySupportedKeywords() throws {
        for file in try files("schemas", suffix: ".json") + (try files("schemas/events", suffix: ".json")) {
            let root = try Value.parseJSON(try XCTUnwrap(FileManager.default.contents(atPath: Self.repo + "/" + file)))
            XCTAssertEqual(JSONSchema.unsupportedKeywords(in: root), [], file)
        }
    }

    func testFlowSchemaRejectsMistakes() throws {
        let flowSchema = try schema("flow.json")
        let broken = try YAMLLoader.load("""
            flow: Bad_Id
            start: {on: offer.extnded, key: application.id}
            states:
              a: {after: {delay: 2x, goto: b}, dp: []}
            """, file: "x.yaml").toValue()
        let pointers = Set(flowSchema.validate(broken).map(\.pointer))
        XCTAssertTrue(pointers.contains("/flow"))
        XCTAssertTrue(pointers.contains("/start/on"))
        XCTAssertTrue(pointers.contains("/states/a") || pointers.contains("/states/a/dp"), "\(pointers)")
    }

    func testValidatorKeywords() {
        let s = JSONSchema([
            "type": "object", "required": ["a"], "additionalProperties": false,
            "properties": ["a": ["type": "integer", "minimum": 1], "b": ["$ref": "#/$defs/name"],
                           "c": ["type": "array", "items": ["enum": ["x", "y"]], "maxItems": 2],
                           "d": ["oneOf": [["type": "string"], ["type": "number"]]],
                           "e": ["type": "string", "format": "date-time"]],
            "$defs": ["name": ["type": "string", "pattern": "^[a-z]+$", "minLength": 2]],
        ])
        XCTAssertEqual(s.validate(["a": 2, "b": "ok", "c": ["x"], "d": 3, "e": "2026-03-02T09:00:00Z"]), [])
        XCTAssertEqual(s.validate(["b": "ok"]).map(\.description), ["/: missing required key 'a'"])
        XCTAssertEqual(s.validate(["a": 1.5]).map(\.pointer), ["/a"])
        XCTAssertEqual(s.validate(["a": 0]).map(\.message), ["must be ≥ 1"])
        XCTAssertEqual(s.validate(["a": 1, "b": "X"]).map(\.pointer), ["/b", "/b"])
        XCTAssertEqual(s.validate(["a": 1, "c": ["x", "z", "y"]]).map(\.pointer).sorted(), ["/c", "/c/1"])
        XCTAssertEqual(s.validate(["a": 1, "d": true]).map(\.pointer), ["/d"])
        XCTAssertEqual(s.validate(["a": 1, "e": "yesterday"]).map(\.pointer), ["/e"])
        XCTAssertEqual(s.validate(["a": 1, "zz": 1]).map(\.description), ["/zz: unknown key 'zz'"])
        XCTAssertEqual(JSONSchema.unsupportedKeywords(in: ["type": "object", "propertiez": [:]]), ["/propertiez"])
    }
}
