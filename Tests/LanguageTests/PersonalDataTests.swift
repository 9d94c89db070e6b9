import Foundation
import HirewireLanguage
import XCTest

final class PersonalDataTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// A vendor body wraps everything in `payload`: the wrapper stays, what is personal inside it
    /// is masked (the key's "pay" is not compensation).
    func testAGreenhouseOfferKeepsItsPayloadAndLosesItsSalary() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.repo + "/examples/payloads/greenhouse/offer_created.json"))
        let masked = PersonalData.mask(try Value.parseJSON(data))
        guard case .object(let payload) = masked["payload"] else { return XCTFail("payload masked whole: \(masked)") }
        XCTAssertEqual(payload["application_id"], 77120455)
        XCTAssertEqual(payload["notes"], "Relocation package discussed")
        XCTAssertEqual(masked["payload"]["custom_fields"]["salary"], "***")
    }

    func testCompensationIsFoundByWholeWords() {
        for key in ["salary", "base_salary", "baseSalary", "payRate", "pay", "bonus-target", "Equity", "hourly_wage", "payroll_id"] {
            XCTAssertTrue(PersonalData.isPersonal(key), key)
        }
        for key in ["payload", "display", "repayment_terms", "paypal_ref", "status", "job_title", "wageningen"] {
            XCTAssertFalse(PersonalData.isPersonal(key), key)
        }
    }

    func testNamesEmailsAndPhonesAreMaskedWhereverTheyAre() {
        let value: Value = ["candidate": ["first_name": "Ada", "email_addresses": [["value": "ada@example.com"]], "mobile": "+44 7700 900123",
                                          "id": "c1"],
                            "recruiter": ["full_name": "Sam Lee"], "empty": ["email": nil]]
        let masked = PersonalData.mask(value)
        XCTAssertEqual(masked["candidate"]["first_name"], "***")
        XCTAssertEqual(masked["candidate"]["email_addresses"], "***")
        XCTAssertEqual(masked["candidate"]["mobile"], "***")
        XCTAssertEqual(masked["candidate"]["id"], "c1")
        XCTAssertEqual(masked["recruiter"]["full_name"], "***")
        XCTAssertEqual(masked["empty"]["email"], .null, "a null is not personal data")
    }

    /// Vendors' spellings: lists of phone numbers and addresses, camel case, one-word names.
    /// What names a thing (a job, a stage) and what is only a flag stay readable.
    func testVendorsSpellingsOfContactDataAreMasked() {
        for key in ["phone_numbers", "primaryPhoneNumber", "addresses", "firstname", "lastname", "emailAddresses", "name",
                    "recruiter_name", "hiringManagerName", "date_of_birth", "dob"] {
            XCTAssertTrue(PersonalData.isPersonal(key), key)
        }
        for key in ["job_name", "stageName", "department_name", "source_name", "id", "title", "notes"] {
            XCTAssertFalse(PersonalData.isPersonal(key), key)
        }
        let value: Value = ["phone_numbers": [["value": "+44 20 7946 0018", "type": "mobile"]], "can_email": true,
                            "primaryPhoneNumber": ["value": "+1 212 555 0147"], "firstname": "Katherine", "current_stage": ["name": "Offer"]]
        let masked = PersonalData.mask(value)
        XCTAssertEqual(masked["phone_numbers"], "***")
        XCTAssertEqual(masked["primaryPhoneNumber"], "***")
        XCTAssertEqual(masked["firstname"], "***")
        XCTAssertEqual(masked["can_email"], true, "a flag is not personal data")
        XCTAssertEqual(masked["current_stage"]["name"], "***", "a bare name is masked: its owner is not known from the key")
    }
}
