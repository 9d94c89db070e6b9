import Foundation

/// The SSRF guard for every outbound HTTP call: the target must be http(s), and unless
/// `outbound.allow_private_networks` is set, every address its host resolves to must be public
/// (no loopback, private, link-local, carrier-grade NAT or unspecified addresses). The checked
/// address is pinned for the request so a second DNS answer cannot point elsewhere.
public enum OutboundGuard {
    /// The pin (`host:port:address`) for `url`, or a permanent failure.
    public static func check(_ url: String, allowPrivate: Bool) throws(ConnectorFailure) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = components.host, !host.isEmpty else {
            throw ConnectorFailure("'\(url)' is not an http(s) URL", retryable: false)
        }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        let addresses = resolve(host)
        guard let first = addresses.first else { throw ConnectorFailure("cannot resolve \(host)", retryable: true) }
        if !allowPrivate, let blocked = addresses.first(where: isPrivate) {
            throw ConnectorFailure("refused: \(host) resolves to the private address \(blocked) (outbound.allow_private_networks is off)", retryable: false)
        }
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        let shown = first.contains(":") ? "[\(first)]" : first
        return "\(bare):\(port):\(shown)"
    }

    /// The numeric addresses of `host` (getaddrinfo).
    static func resolve(_ host: String) -> [String] {
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(bare, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var out: [String] = []
        var cursor = list
        while let entry = cursor {
            var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 {
                let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !out.contains(text) { out.append(text) }
            }
            cursor = entry.pointee.ai_next
        }
        return out
    }

    /// Whether a numeric address is not publicly routable.
    public static func isPrivate(_ address: String) -> Bool {
        if address.contains(":") {
            let a = address.lowercased()
            return a == "::1" || a == "::" || a.hasPrefix("fe8") || a.hasPrefix("fe9") || a.hasPrefix("fea") || a.hasPrefix("feb")
                || a.hasPrefix("fc") || a.hasPrefix("fd") || a.hasPrefix("::ffff:") && isPrivate(String(a.dropFirst(7)))
        }
        let parts = address.split(separator: ".").compactMap { Int($0) }
        guard parts.count == 4 else { return true }
        switch (parts[0], parts[1]) {
        case (0, _), (10, _), (127, _): return true
        case (100, 64...127): return true
        case (169, 254): return true
        case (172, 16...31): return true
        case (192, 168): return true
        case (192, 0) where parts[2] == 0: return true
        case (198, 18...19): return true
        case (224...255, _): return true
        default: return false
        }
    }
}
