import CCurl
import Foundation

/// Sends one message over SMTP with libcurl: STARTTLS when the server offers it (required with
/// `?starttls=required` in the URL; `smtps://` is implicit TLS), AUTH from the URL's user and
/// password, the envelope from `from` to `recipients`.
enum CurlSMTP {
    /// `caFile` adds a PEM bundle to trust (a private relay's own certificate authority).
    static func send(url: String, from: String, recipients: [String], message: String, timeout: Double, caFile: String? = nil) throws(TransportError) {
        _ = CurlGlobal.ready
        guard let handle = curl_easy_init() else { throw TransportError(code: -1, message: "curl_easy_init failed") }
        defer { curl_easy_cleanup(handle) }
        var target = url
        var requireTLS = false
        if let question = target.firstIndex(of: "?") {
            requireTLS = target[question...].contains("starttls=required")
            target = String(target[..<question])
        }
        var recipientList: UnsafeMutablePointer<curl_slist>?
        for recipient in recipients { recipientList = curl_slist_append(recipientList, "<\(recipient)>") }
        defer { curl_slist_free_all(recipientList) }
        let upload = UploadSource(bytes: Array(message.utf8))
        hirewire_curl_set_string(handle, CURLOPT_URL, target)
        hirewire_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
        if ProcessInfo.processInfo.environment["HIREWIRE_CURL_VERBOSE"] != nil { hirewire_curl_set_long(handle, CURLOPT_VERBOSE, 1) }
        hirewire_curl_set_long(handle, CURLOPT_TIMEOUT_MS, Int(timeout * 1000))
        hirewire_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(min(timeout, 10) * 1000))
        hirewire_curl_set_long(handle, CURLOPT_USE_SSL, Int(requireTLS ? CURLUSESSL_ALL.rawValue : CURLUSESSL_TRY.rawValue))
        if let caFile { hirewire_curl_set_string(handle, CURLOPT_CAINFO, caFile) }
        hirewire_curl_set_string(handle, CURLOPT_MAIL_FROM, "<\(from)>")
        hirewire_curl_set_slist(handle, CURLOPT_MAIL_RCPT, recipientList)
        hirewire_curl_set_long(handle, CURLOPT_UPLOAD, 1)
        hirewire_curl_set_reader(handle, readUpload)
        hirewire_curl_set_pointer(handle, CURLOPT_READDATA, Unmanaged.passUnretained(upload).toOpaque())
        let code = curl_easy_perform(handle)
        withExtendedLifetime(upload) {}
        guard code == CURLE_OK else {
            let status = hirewire_curl_status(handle)
            let detail = status > 0 ? " (SMTP \(status))" : ""
            throw TransportError(code: Int(code.rawValue), message: String(cString: curl_easy_strerror(code)) + detail, smtpStatus: status)
        }
    }
}

/// The message being uploaded (touched only by the thread running the transfer).
final class UploadSource {
    let bytes: [UInt8]
    var offset = 0
    init(bytes: [UInt8]) { self.bytes = bytes }
}

private func readUpload(_ buffer: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let buffer, let context else { return 0 }
    let source = Unmanaged<UploadSource>.fromOpaque(context).takeUnretainedValue()
    let n = min(size * count, source.bytes.count - source.offset)
    guard n > 0 else { return 0 }
    source.bytes.withUnsafeBufferPointer { all in
        guard let base = all.baseAddress else { return }
        UnsafeMutableRawPointer(buffer).copyMemory(from: base + source.offset, byteCount: n)
    }
    source.offset += n
    return n
}
