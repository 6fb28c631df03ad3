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

    /// Posts `body` (`QL:` text) to `<relay>/<path>`; true on a 2xx answer.
    private func post(_ body: String, to path: String) async -> Bool {
        guard let url else { return false }
        var request = URLRequest(url: url.appendingPathComponent(path))
        request.httpMethod = "POST"
        request.timeoutInterval = Self.timeout
        request.setValue("text/plain; charset=utf-8", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)
        guard let response = try? await session.data(for: request).1 as? HTTPURLResponse else { return false }
        return (200..<300).contains(response.statusCode)
    }
}
