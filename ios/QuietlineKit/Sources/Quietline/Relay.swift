import Foundation

/// The organisation's `quietline-relay`, phone side, exactly as docs/relay-protocol.md says
/// (the same protocol as the Android app). Every path is relative to the relay URL from the
/// enrollment bundle (`https://<relay>/o/<org>`):
///
/// | request | `Authorization` | what for |
/// | --- | --- | --- |
/// | `POST /enrollments` | none: the response proves possession of the new key | the enrollment response, until stored |
/// | `GET /queue` | `QL-Session` while the relay's poll session is valid, else `QL-Device` | signed policies, root rotations and commands, with `QL-Challenge` |
/// | `POST /receipts` | none: a receipt verifies under the key of the device it names (a wipe's receipt is sent after the key is erased) | one signed receipt |
/// | `POST /checkin` | `QL-Device` | the device-signed status report answering this poll's challenge |
/// | `PUT /push-token`, `DELETE /push-token` | `QL-Device` | the APNs token the relay may wake the app with |
///
/// The `QL-Device` header comes from the core (`Agent.relayAuthorization(method:endpoint:body:)`,
/// signed by the device key over the method, the endpoint and the exact body) and is set in one
/// place, `authorize(_:method:endpoint:body:at:)`, for every request that needs it. A `401`
/// carries the relay's `Date`: the request is signed once more at that time
/// (`relayAuthorizationAt`), which only affects this request's authentication.
///
/// Poll sessions (docs/relay-protocol.md): the relay's `200` to a `QL-Device`-signed `GET /queue`
/// carries `QL-Session`, which this client keeps in memory only (never on disk, in UserDefaults or
/// the Keychain, never logged) and uses, through the core's `relaySessionAuthorization`, for the
/// next `GET /queue` (and no other request) while `relaySessionValid` says so. A `401` to a
/// session drops it and the request goes once more signed by the device key.
///
/// The relay is trusted with nothing: everything it serves goes to the core, whose checks alone
/// decide; its answers (a 2xx, an empty queue, a challenge) change nothing in the phone's safety
/// state, and a successful poll is not a check-in. An `http:` URL is refused rather than used.
public final class RelayClient {
    /// The relay IT gave at enrollment (`Agent.relayUrl()`); nil when there is none.
    public let url: URL?
    private let session: URLSession
    /// Signs the requests that need the device's authentication. Nil after a wipe, when only
    /// receipts (which authenticate themselves) are still sent.
    private let agent: AgentProtocol?
    private static let timeout: TimeInterval = 15
    /// The relay's poll session (`QL-Session`), in memory only, for this client's life. Guarded
    /// by `pollSessionLock`; read and changed only by the `…PollSession` functions below.
    private var pollSession: String?
    private let pollSessionLock = NSLock()
    private static let textPlain = "text/plain; charset=utf-8"

    /// - Parameter agent: the enrolled agent, whose device key signs `GET /queue`, `POST
    ///   /checkin` and the push-token requests; nil where only receipts are sent.
    public init(url: URL?, agent: AgentProtocol? = nil, session: URLSession = .shared) {
        self.url = url.flatMap { $0.scheme?.lowercased() == "https" ? $0 : nil }
        self.agent = agent
        self.session = session
    }

    public convenience init(string: String?, agent: AgentProtocol? = nil, session: URLSession = .shared) {
        self.init(url: string.flatMap { URL(string: $0) }, agent: agent, session: session)
    }

    // MARK: - Answers

    /// What `GET /queue` brought.
    public struct Queue: Equatable {
        /// The `QL:` lines, oldest first (other lines are ignored).
        public let lines: [String]
        /// `QL-Challenge`: what this poll's `POST /checkin` answers; nil when the relay gave
        /// none that looks like one (then there is no check-in this time).
        public let challenge: String?
        /// `QL-Poll-After`: the relay's suggested seconds until the next poll.
        public let pollAfter: TimeInterval?
    }

    /// How a `QL:` text sent to the relay fared.
    public enum Delivery: Equatable {
        /// `201` stored, `200` stored already, `204` (a check-in) stored.
        case stored
        /// `400`: the relay cannot accept this text; sending it again cannot help.
        case refused
        /// `404 unknown_enrollment`: IT has not announced this enrollment yet; try at the next poll.
        case notAnnounced
        /// `409`: `enrollment_conflict` (another key was posted for this enrollment: contact IT)
        /// or `stale_challenge` (fetch the queue again and answer the new challenge).
        case conflict
        /// Not reached, or another answer (`401`, `429`, `5xx`): try again at the next poll.
        case failed
    }

    // MARK: - Endpoints

    /// `POST /enrollments`: the enrollment response (`QL:` text). No `Authorization`: the
    /// response itself proves possession of the new device key.
    public func post(enrollmentResponse: String) async -> Delivery {
        let body = Data(enrollmentResponse.utf8)
        guard let answer = await exchange("POST", "/enrollments", body: body, contentType: Self.textPlain, signed: false) else {
            return .failed
        }
        switch answer.status {
        case 200, 201: return .stored
        case 404: return .notAnnounced
        case 409: return .conflict
        case 400: return .refused
        default: return .failed
        }
    }

    /// `GET /queue`, device-signed: what waits for this phone, and the challenge for this poll's
    /// check-in. Nil when there is no relay, it cannot be reached, or it does not answer `200`.
    public func queue() async -> Queue? {
        guard let answer = await queueAnswer(), answer.status == 200 else { return nil }
        let lines = String(decoding: answer.body, as: UTF8.self)
            .split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("QL:") }
        let challenge = answer.header("QL-Challenge").flatMap { Self.isHex($0, digits: 32) ? $0.lowercased() : nil }
        let pollAfter = answer.header("QL-Poll-After").flatMap { TimeInterval($0) }.flatMap { $0 >= 0 ? $0 : nil }
        return Queue(lines: lines, challenge: challenge, pollAfter: pollAfter)
    }

    /// `GET /queue`, authenticated with the poll session while the core calls it valid, else
    /// signed by the device key, whose `200` may bring a new session (kept in memory). A session
    /// the relay refuses (`401`: expired, re-enrolled, unknown, a clock off) or that could not be
    /// used is dropped, and the request goes once more with `QL-Device`.
    private func queueAnswer() async -> Answer? {
        if let kept = keptPollSession() {
            if relaySessionValid(session: kept),
               let answer = await exchange("GET", "/queue", signed: true, pollSession: kept),
               answer.status != 401 {
                return answer // a session's answer never carries a new session
            }
            dropPollSession(kept)
        }
        guard let answer = await exchange("GET", "/queue", signed: true) else { return nil }
        if answer.status == 200, let issued = answer.header("QL-Session"), relaySessionValid(session: issued) {
            keepPollSession(issued)
        }
        return answer
    }

    private func keptPollSession() -> String? {
        pollSessionLock.lock()
        defer { pollSessionLock.unlock() }
        return pollSession
    }

    private func keepPollSession(_ value: String) {
        pollSessionLock.lock()
        defer { pollSessionLock.unlock() }
        pollSession = value
    }

    private func dropPollSession(_ value: String) {
        pollSessionLock.lock()
        defer { pollSessionLock.unlock() }
        if pollSession == value { pollSession = nil }
    }

    /// `POST /receipts`: one signed receipt (`QL:` text). No `Authorization`: a receipt
    /// verifies under the key of the device it names, and a wipe's receipt is sent after the
    /// device key is gone.
    public func post(receipt: String) async -> Delivery {
        let body = Data(receipt.utf8)
        guard let answer = await exchange("POST", "/receipts", body: body, contentType: Self.textPlain, signed: false) else {
            return .failed
        }
        switch answer.status {
        case 200, 201: return .stored
        case 400: return .refused
        default: return .failed
        }
    }

    /// `POST /checkin`, device-signed: the status report from `Agent.statusReport(challenge:)`.
    /// `.conflict` is `409 stale_challenge`: fetch the queue again, answer the new challenge.
    public func checkIn(report: String) async -> Delivery {
        let body = Data(report.utf8)
        guard let answer = await exchange("POST", "/checkin", body: body, contentType: Self.textPlain, signed: true) else {
            return .failed
        }
        switch answer.status {
        case 200, 201, 204: return .stored
        case 409: return .conflict
        case 400: return .refused
        default: return .failed
        }
    }

    /// `PUT /push-token`, device-signed: the APNs device token (hex), so the relay can send a
    /// content-free wake-up. True when the relay stored it; the caller retries at the next poll.
    public func registerPushToken(_ token: String) async -> Bool {
        guard url != nil, !token.isEmpty, token.count <= 4096, token.allSatisfy({ $0.isASCII && $0.isHexDigit }),
              let body = try? JSONSerialization.data(withJSONObject: ["platform": "apns", "token": token])
        else { return false }
        guard let answer = await exchange("PUT", "/push-token", body: body, contentType: "application/json", signed: true) else {
            return false
        }
        return (200..<300).contains(answer.status)
    }

    /// `DELETE /push-token`, device-signed: APNs no longer gives this app a token, so the relay
    /// forgets the old one. True when the relay answered `2xx`.
    public func forgetPushToken() async -> Bool {
        guard let answer = await exchange("DELETE", "/push-token", signed: true) else { return false }
        return (200..<300).contains(answer.status)
    }

    // MARK: - One request

    /// A relay answer: status, body and headers.
    private struct Answer {
        let status: Int
        let body: Data
        let response: HTTPURLResponse

        func header(_ name: String) -> String? {
            response.value(forHTTPHeaderField: name)?.trimmingCharacters(in: .whitespaces)
        }
    }

    /// Sends one request to `<relay>/<endpoint>`; `signed` requests carry the device's
    /// `Authorization` (`QL-Session` with `pollSession`, only for `GET /queue`). Nil when there
    /// is no relay, it was not reached, or the request could not be signed (the agent was wiped).
    private func exchange(
        _ method: String, _ endpoint: String, body: Data = Data(), contentType: String? = nil, signed: Bool,
        pollSession: String? = nil
    ) async -> Answer? {
        guard let url else { return nil }
        var request = URLRequest(url: url.appendingPathComponent(String(endpoint.dropFirst())))
        request.httpMethod = method
        request.timeoutInterval = Self.timeout
        request.cachePolicy = .reloadIgnoringLocalAndRemoteCacheData
        if let contentType {
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        }
        if !body.isEmpty {
            request.httpBody = body
        }
        do {
            if signed {
                try authorize(&request, method: method, endpoint: endpoint, body: body, at: nil, pollSession: pollSession)
            }
            var answer = try await send(request)
            // A phone whose clock is off signs once more at the relay's time (its `Date`); a
            // refused session goes back to `queueAnswer`, which drops it.
            if signed, pollSession == nil, answer.status == 401, let relayTime = answer.header("Date").flatMap(Self.httpDate) {
                try authorize(&request, method: method, endpoint: endpoint, body: body, at: relayTime)
                answer = try await send(request)
            }
            return answer
        } catch {
            return nil
        }
    }

    /// Sets `Authorization: QL-Device …` from the core, signed over this request's method,
    /// endpoint and exact body (at `time`, the relay's clock, after a `401`); with `pollSession`,
    /// `QL-Session …` (the core's HMAC over the same), for `GET /queue` only.
    private func authorize(
        _ request: inout URLRequest, method: String, endpoint: String, body: Data, at time: Int64?, pollSession: String? = nil
    ) throws {
        let header: String
        if let pollSession {
            guard method == "GET", endpoint == "/queue" else { throw URLError(.userAuthenticationRequired) }
            header = try relaySessionAuthorization(session: pollSession, method: method, endpoint: endpoint, body: body)
        } else if let time {
            guard let agent else { throw URLError(.userAuthenticationRequired) }
            header = try agent.relayAuthorizationAt(method: method, endpoint: endpoint, body: body, unixSeconds: time)
        } else {
            guard let agent else { throw URLError(.userAuthenticationRequired) }
            header = try agent.relayAuthorization(method: method, endpoint: endpoint, body: body)
        }
        request.setValue(header, forHTTPHeaderField: "Authorization")
    }

    private func send(_ request: URLRequest) async throws -> Answer {
        let (data, response) = try await session.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw URLError(.badServerResponse) }
        return Answer(status: http.statusCode, body: data, response: http)
    }

    private static func isHex(_ s: String, digits: Int) -> Bool {
        s.count == digits && s.allSatisfy { $0.isASCII && $0.isHexDigit }
    }

    /// An HTTP `Date` (`Sun, 29 Nov 2026 18:00:39 GMT`) as unix seconds.
    private static func httpDate(_ value: String) -> Int64? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: value).map { Int64($0.timeIntervalSince1970) }
    }
}
