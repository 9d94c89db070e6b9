import Foundation
import XCTest
import HirewireConnectors
import HirewireEngine
import HirewireLanguage
import HirewireStore
import HirewireTestSupport

/// The email connector against a real SMTP server on 127.0.0.1 (STARTTLS, AUTH) and the Maildir.
final class EmailConnectorTests: XCTestCase {
    var dir = ""
    override func setUp() { dir = temporaryFolder("email") }
    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func environment(smtp: String?, caFile: String? = nil) -> ConnectorEnvironment {
        var smtpSettings: [String: Value] = ["from": "Talent Team <talent@acme.test>"]
        if let smtp { smtpSettings["url"] = .string(smtp) }
        if let caFile { smtpSettings["ca_file"] = .string(caFile) }
        return ConnectorEnvironment(root: dir, settings: ["email": .object(["smtp": .object(smtpSettings)])], env: [:], allowPrivateNetworks: true)
    }

    let offer: Value = ["to": "ada@example.com", "reply_to": "sam@acme.test", "subject": "Your offer, Ada — next steps",
                        "text": "Hi Ada,\nyour offer for Senior Data Engineer is ready.", "html": "<p>Hi Ada,</p><p>your offer is ready.</p>"]

    func testPersonalizedEmailArrivesOverSTARTTLSWithAuthSubjectBodyAndReplyTo() async throws {
        let (cert, key) = (dir + "/cert.pem", dir + "/key.pem")
        let made = try runTool("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                                           "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        XCTAssertEqual(made, 0)
        let sink = try SMTPSink(maildir: dir + "/received", tls: (cert, key), auth: "hirewire:s3cret")
        defer { sink.stop() }
        let connector = EmailConnector(environment: environment(smtp: "smtp://hirewire:s3cret@127.0.0.1:\(sink.port)?starttls=required", caFile: cert))
        let result = try await connector.execute(item("email", offer))
        XCTAssertEqual(result["transport"].stringValue, "smtp")
        let messages = sink.messages
        XCTAssertEqual(messages.count, 1)
        let message = try XCTUnwrap(messages.first)
        XCTAssertTrue(message.contains("X-Envelope-To: ada@example.com"), message)
        XCTAssertTrue(message.contains("X-Envelope-From: talent@acme.test"), message)
        XCTAssertTrue(message.contains("Reply-To: sam@acme.test"), message)
        XCTAssertTrue(message.contains("Subject: =?UTF-8?B?\(Data("Your offer, Ada — next steps".utf8).base64EncodedString())?="), message)
        XCTAssertTrue(message.contains("Message-ID: \(result["message_id"].displayString)"), message)
        XCTAssertTrue(message.contains("multipart/alternative"), message)
        let parts = decodedParts(message)
        XCTAssertEqual(parts.first, "Hi Ada,\nyour offer for Senior Data Engineer is ready.")
        XCTAssertEqual(parts.last, "<p>Hi Ada,</p><p>your offer is ready.</p>")
    }

    func testWrongPasswordAndPlainTextWhenTLSIsRequiredFail() async throws {
        let sink = try SMTPSink(maildir: dir + "/received", auth: "hirewire:s3cret")
        defer { sink.stop() }
        let wrong = EmailConnector(environment: environment(smtp: "smtp://hirewire:nope@127.0.0.1:\(sink.port)"), timeout: 3)
        do {
            _ = try await wrong.execute(item("email", offer))
            XCTFail("a wrong password must fail")
        } catch {
            XCTAssertTrue(error.message.contains("SMTP"), error.message)
        }
        let requireTLS = EmailConnector(environment: environment(smtp: "smtp://hirewire:s3cret@127.0.0.1:\(sink.port)?starttls=required"))
        do {
            _ = try await requireTLS.execute(item("email", offer))
            XCTFail("a server without STARTTLS must be refused when TLS is required")
        } catch {
            XCTAssertTrue(error.retryable)
        }
        XCTAssertEqual(sink.messages.count, 0)
    }

    func testRejectedRecipientIsPermanentAndSameKeyGivesSameMessageId() async throws {
        let sink = try SMTPSink(maildir: dir + "/received")
        defer { sink.stop() }
        let connector = EmailConnector(environment: environment(smtp: "smtp://127.0.0.1:\(sink.port)"))
        var rejected = offer
        rejected = .object((offer.objectValue ?? [:]).merging(["to": "rejected@example.com"]) { _, new in new })
        do {
            _ = try await connector.execute(item("email", rejected))
            XCTFail("550 must fail")
        } catch {
            XCTAssertFalse(error.retryable, "a 5xx reply is permanent: \(error.message)")
        }
        let first = try await connector.execute(item("email", offer))
        let second = try await connector.execute(item("email", offer))
        XCTAssertEqual(first["message_id"], second["message_id"])
        let other = try await connector.execute(item("email", offer, key: "jrn_1:4:states.extended.do[0]"))
        XCTAssertNotEqual(first["message_id"], other["message_id"])
    }

    func testWithoutSMTPMailGoesToAMaildirOncePerKey() async throws {
        let connector = EmailConnector(environment: environment(smtp: nil))
        let result = try await connector.execute(item("email", offer))
        XCTAssertEqual(result["transport"].stringValue, "maildir")
        _ = try await connector.execute(item("email", offer))
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/.hirewire/mail/new")
        XCTAssertEqual(files.count, 1, "a retry replaces the earlier copy")
        let text = try String(contentsOfFile: dir + "/.hirewire/mail/new/" + files[0], encoding: .utf8)
        XCTAssertTrue(text.contains("To: ada@example.com"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/.hirewire/mail/cur"))
    }
}
