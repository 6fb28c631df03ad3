import Foundation

/// The organisation's relay (plain HTTPS; any static host or object store will do), the same
/// protocol as the Android app:
/// - `GET <relay>` returns `text/plain`, one `QL:` object per line (signed commands, signed
///   policies and root rotations; other lines are ignored);
/// - `POST <relay>/receipts` with one signed receipt (`QL:` text) as the body; a 2xx answer
///   means it was stored;
/// - `POST <relay>/enrollments` with the enrollment response (`QL:` text, signed by the new
///   device key) as the body, once after enrollment; IT staff take it from there to
///   `quietline-admin enroll accept`. A 2xx answer means it was stored.
///
/// - `PUT <relay>/push-token` with `{"platform": "apns", "token": "<hex>"}` (JSON): the address
///   the relay may send a content-free wake-up to (`registerPushToken`). A push is only ever a
///   reason to poll: commands never depend on it, since iOS delivers background pushes at low
///   priority and may throttle or drop them.
///
/// `quietline-relay` (docs/relay-protocol.md) adds device authentication (`Authorization:
/// QL-Device …`, signed by the device key) and moves the poll to `GET <relay>/queue`; the core
/// does not export the signer yet (`relayAuthorization`), so requests are built in
/// `fetch()` and `send(_:to:method:contentType:)`, the two places the header goes once it does.
///
/// The relay is trusted with nothing: everything it serves is signed and only the core's checks
/// decide, and receipts are signed by the phone. An `http:` URL is refused rather than used.
public final class RelayClient {
    /// The relay IT gave at enrollment (`Agent.relayUrl()`); nil when there is none.
    public let url: URL?
    private let session: URLSession
    private static let timeout: TimeInterval = 15

    public init(url: URL?, session: URLSession = .shared) {
        self.url = url.flatMap { $0.scheme?.lowercased() == "https" ? $0 : nil }
        self.session = session
    }

    public convenience init(string: String?, session: URLSession = .shared) {
        self.init(url: string.flatMap { URL(string: $0) }, session: session)
    }

    /// The `QL:` lines the relay holds; nil when there is no relay. Throws when it cannot be
    /// reached or does not answer 2xx.
    public func fetch() async throws -> [String]? {
        guard let url else { return nil }
        var request = URLRequest(url: url)
        request.timeoutInterval = Self.timeout
        let (data, response) = try await session.data(for: request)
        guard let status = (response as? HTTPURLResponse)?.statusCode, (200..<300).contains(status) else {
            throw URLError(.badServerResponse)
        }
        return String(decoding: data, as: UTF8.self)
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("QL:") }
    }

    /// Posts one receipt; true when the relay stored it. Never throws.
    public func post(receipt: String) async -> Bool {
        await post(receipt, to: "receipts")
    }

    /// Posts the enrollment response; true when the relay stored it. Never throws.
    public func post(enrollmentResponse: String) async -> Bool {
        await post(enrollmentResponse, to: "enrollments")
    }

    /// Registers the APNs device token (hex) with the relay, so it can wake the app to poll.
    /// True when the relay stored it. Never throws; the caller retries at the next poll.
    public func registerPushToken(_ token: String) async -> Bool {
        guard url != nil, !token.isEmpty, token.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { return false }
        let body = (try? JSONSerialization.data(withJSONObject: ["platform": "apns", "token": token])) ?? Data()
        return await send(body, to: Self.pushTokenPath, method: "PUT", contentType: "application/json")
    }

    /// The endpoint of `registerPushToken`, relative to the relay's URL.
    public static let pushTokenPath = "push-token"

    /// Posts `body` (`QL:` text) to `<relay>/<path>`; true on a 2xx answer.
    private func post(_ body: String, to path: String) async -> Bool {
        await send(Data(body.utf8), to: path, method: "POST", contentType: "text/plain; charset=utf-8")
    }

    /// Sends `body` to `<relay>/<path>`; true on a 2xx answer.
    private func send(_ body: Data, to path: String, method: String, contentType: String) async -> Bool {
        guard let url else { return false }
        var request = URLRequest(url: url.appendingPathComponent(path))
        request.httpMethod = method
        request.timeoutInterval = Self.timeout
        request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        request.httpBody = body
        guard let response = try? await session.data(for: request).1 as? HTTPURLResponse else { return false }
        return (200..<300).contains(response.statusCode)
    }
}
