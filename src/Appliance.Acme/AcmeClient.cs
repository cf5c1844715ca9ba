using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Appliance.Acme.Protocol;

namespace Appliance.Acme;

/// <summary>
/// An RFC 8555 client for one ACME server and one account key. Every request is a JWS POST (POST-as-GET for
/// reads, section 6.3) carrying a fresh nonce; nonces come from each response's Replay-Nonce and, when none is
/// left, from newNonce. A badNonce refusal is retried with the nonce it carried (section 6.5). Thread-safe.
/// </summary>
public sealed class AcmeClient
{
    /// <summary>
    /// badNonce retries per request; a server may reject any nonce (pebble rejects 5% by default). A retry costs one
    /// quick request, and a flaky server must not fail an order that polls dozens of times: at a 50% rejection rate
    /// 20 retries leave one request in two million failing (10 left one in two thousand, and an order failed now and then).
    /// </summary>
    public const int MaxBadNonceRetries = 20;

    /// <summary>
    /// The largest answer read (JSON resources, certificate chains): a chain of a dozen certificates is a few tens of
    /// kilobytes, so 1 MiB leaves room while a server cannot make the appliance buffer without end.
    /// </summary>
    public const int MaxBodyBytes = 1024 * 1024;
    private const string JoseJson = "application/jose+json";

    private readonly HttpClient _http;
    private AcmeAccountKey _key;
    private readonly TimeProvider _time;
    private readonly ConcurrentBag<string> _nonces = [];
    private AcmeDirectory? _directory;

    public AcmeClient(HttpClient http, Uri directoryUrl, AcmeAccountKey key, string? accountUrl, TimeProvider time)
    {
        _http = http;
        DirectoryUrl = directoryUrl;
        _key = key;
        AccountUrl = accountUrl;
        _time = time;
    }

    public Uri DirectoryUrl { get; }

    /// <summary>The account URL ("kid"), known after <see cref="RegisterAsync"/> or given at construction.</summary>
    public string? AccountUrl { get; private set; }

    public AcmeAccountKey Key => _key;

    /// <summary>How long to wait between polls when the server gives no Retry-After; tests shorten it.</summary>
    public TimeSpan DefaultPollInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Retry-After values above this are clamped while polling an order or authorization.</summary>
    public TimeSpan MaxPollInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long one request may take from sending it to the last byte of its answer (a server that trickles is cut off).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    // ---------------------------------------------------------------- directory and account

    public async Task<AcmeDirectory> GetDirectoryAsync(CancellationToken cancellationToken = default)
    {
        if (_directory is not null) return _directory;
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, DirectoryUrl), DirectoryUrl.ToString(), cancellationToken);
        var body = await ReadBodyAsync(response, cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw Refusal(response, body, $"reading the directory {DirectoryUrl}");
        var directory = Deserialize(body, AcmeJson.Default.AcmeDirectory, DirectoryUrl.ToString());
        if (directory.NewNonce is null || directory.NewAccount is null || directory.NewOrder is null)
            throw new AcmeException(AcmeFailure.MalformedResponse,
                $"{DirectoryUrl} is not an ACME directory: it lacks newNonce, newAccount or newOrder. Check the directory URL (it ends in /directory for most CAs).");
        foreach (var (name, url) in new[] { ("newNonce", directory.NewNonce), ("newAccount", directory.NewAccount), ("newOrder", directory.NewOrder),
                     ("revokeCert", directory.RevokeCert), ("keyChange", directory.KeyChange), ("renewalInfo", directory.RenewalInfo) })
            if (url is not null) AcmeServerUrl.Check(url, DirectoryUrl, $"the directory's {name} URL");
        return _directory = directory;
    }

    /// <summary>
    /// Creates the account (or finds the existing one for this key) agreeing to the terms of service, with the contact
    /// email and, when given, the external account binding (RFC 8555 section 7.3, 7.3.4). Sets <see cref="AccountUrl"/>.
    /// </summary>
    public async Task<string> RegisterAsync(string? email, ExternalAccountBinding? binding, CancellationToken cancellationToken = default)
    {
        var directory = await GetDirectoryAsync(cancellationToken);
        if (directory.Meta?.ExternalAccountRequired == true && binding is null)
            throw new AcmeException(AcmeFailure.NotPossible,
                $"The ACME server {DirectoryUrl} requires external account binding; enter the EAB key id and HMAC key your CA gave you.");
        JwsMessage? eab = null;
        if (binding is not null)
        {
            byte[] macKey;
            try
            {
                macKey = Base64Url.DecodeFromChars(binding.HmacKey.Trim().TrimEnd('='));
            }
            catch (FormatException)
            {
                throw new AcmeException(AcmeFailure.NotPossible, "The EAB HMAC key is not base64url text; copy it exactly as your CA shows it.");
            }
            try
            {
                eab = _key.ExternalAccountBinding(binding.KeyId, macKey, directory.NewAccount!);
            }
            finally
            {
                System.Security.Cryptography.CryptographicOperations.ZeroMemory(macKey);
            }
        }
        var payload = new NewAccountPayload(true, string.IsNullOrWhiteSpace(email) ? null : ["mailto:" + email.Trim()], eab, null);
        using var response = await PostAsync(directory.NewAccount!, JsonSerializer.SerializeToUtf8Bytes(payload, AcmeJson.Default.NewAccountPayload),
            useJwk: true, accept: null, cancellationToken);
        var location = LocationOf(response, directory.NewAccount!, "the account URL (Location of newAccount)")
            ?? throw new AcmeException(AcmeFailure.MalformedResponse, $"The ACME server answered newAccount without the account URL (Location header); it is not RFC 8555 compliant.");
        AccountUrl = location;
        return location;
    }

    /// <summary>
    /// Account key rollover (RFC 8555 section 7.3.5): an inner JWS signed by the new key (jwk, no nonce) naming the
    /// account and the old key, inside an outer JWS signed by the old key. From then on this client signs with the new key.
    /// </summary>
    public async Task RolloverKeyAsync(AcmeAccountKey newKey, CancellationToken cancellationToken = default)
    {
        var directory = await GetDirectoryAsync(cancellationToken);
        var keyChange = directory.KeyChange
            ?? throw new AcmeException(AcmeFailure.NotPossible, $"The ACME server {DirectoryUrl} does not offer account key rollover (no keyChange in its directory).");
        var account = AccountUrl ?? throw new InvalidOperationException("The ACME account is not registered yet; call RegisterAsync first.");
        var inner = newKey.Sign(JsonSerializer.SerializeToUtf8Bytes(new KeyChangePayload(account, _key.Jwk), AcmeJson.Default.KeyChangePayload),
            keyChange, nonce: null, accountUrl: null);
        using var response = await PostAsync(keyChange, JsonSerializer.SerializeToUtf8Bytes(inner, AcmeJson.Default.JwsMessage), useJwk: false, accept: null, cancellationToken);
        _key = newKey;
    }

    // ---------------------------------------------------------------- orders

    public async Task<(string Url, AcmeOrder Order)> NewOrderAsync(IReadOnlyList<AcmeIdentifier> identifiers, string? profile, string? replaces,
        CancellationToken cancellationToken = default)
    {
        var directory = await GetDirectoryAsync(cancellationToken);
        var payload = new NewOrderPayload(identifiers, profile, replaces);
        using var response = await PostAsync(directory.NewOrder!, JsonSerializer.SerializeToUtf8Bytes(payload, AcmeJson.Default.NewOrderPayload),
            useJwk: false, accept: null, cancellationToken);
        var order = await ReadAsync(response, AcmeJson.Default.AcmeOrder, directory.NewOrder!, cancellationToken);
        var url = LocationOf(response, directory.NewOrder!, "the order URL (Location of newOrder)")
            ?? throw new AcmeException(AcmeFailure.MalformedResponse, "The ACME server answered newOrder without the order URL (Location header).");
        return (url, order);
    }

    public Task<AcmeOrder> GetOrderAsync(string url, CancellationToken cancellationToken = default) =>
        PostAsGetAsync(url, AcmeJson.Default.AcmeOrder, cancellationToken);

    public Task<AcmeAuthorization> GetAuthorizationAsync(string url, CancellationToken cancellationToken = default) =>
        PostAsGetAsync(url, AcmeJson.Default.AcmeAuthorization, cancellationToken);

    /// <summary>Tells the server the challenge is ready to be validated (RFC 8555 section 7.5.1: POST {}).</summary>
    public async Task<AcmeChallenge> AnswerChallengeAsync(string challengeUrl, CancellationToken cancellationToken = default)
    {
        using var response = await PostAsync(challengeUrl, "{}"u8.ToArray(), useJwk: false, accept: null, cancellationToken);
        return await ReadAsync(response, AcmeJson.Default.AcmeChallenge, challengeUrl, cancellationToken);
    }

    /// <summary>Polls an authorization until it leaves "pending" (section 7.5.1), honouring Retry-After.</summary>
    public async Task<AcmeAuthorization> WaitForAuthorizationAsync(string url, DateTimeOffset deadline, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var (authorization, retryAfter) = await PostAsGetWithRetryAfterAsync(url, AcmeJson.Default.AcmeAuthorization, cancellationToken);
            if (authorization.Status is not ("pending" or "processing")) return authorization;
            await DelayAsync(retryAfter, deadline, $"the authorization for {authorization.Identifier?.Value} to be validated", cancellationToken);
        }
    }

    /// <summary>Submits the CSR (section 7.4) and polls the order until it is valid or invalid.</summary>
    public async Task<AcmeOrder> FinalizeAsync(string orderUrl, AcmeOrder order, byte[] csrDer, DateTimeOffset deadline, CancellationToken cancellationToken = default)
    {
        var finalize = order.Finalize ?? throw new AcmeException(AcmeFailure.MalformedResponse, $"The order {orderUrl} has no finalize URL.");
        var payload = new FinalizePayload(Base64Url.EncodeToString(csrDer));
        using (var response = await PostAsync(finalize, JsonSerializer.SerializeToUtf8Bytes(payload, AcmeJson.Default.FinalizePayload), useJwk: false, accept: null, cancellationToken))
            order = await ReadAsync(response, AcmeJson.Default.AcmeOrder, finalize, cancellationToken);
        return await WaitForOrderAsync(orderUrl, order, deadline, cancellationToken);
    }

    /// <summary>Polls an order while it is "processing" or "pending"/"ready" is not final.</summary>
    public async Task<AcmeOrder> WaitForOrderAsync(string orderUrl, AcmeOrder order, DateTimeOffset deadline, CancellationToken cancellationToken = default)
    {
        TimeSpan? retryAfter = null;
        while (order.Status == "processing")
        {
            await DelayAsync(retryAfter, deadline, "the order to be issued", cancellationToken);
            (order, retryAfter) = await PostAsGetWithRetryAfterAsync(orderUrl, AcmeJson.Default.AcmeOrder, cancellationToken);
        }
        return order;
    }

    /// <summary>Downloads the PEM chain (section 7.4.2) and the URLs of alternate chains (Link rel="alternate").</summary>
    public async Task<CertificateDownload> DownloadCertificateAsync(string certificateUrl, CancellationToken cancellationToken = default)
    {
        using var response = await PostAsync(certificateUrl, null, useJwk: false, accept: "application/pem-certificate-chain", cancellationToken);
        var body = await ReadBodyAsync(response, cancellationToken);
        var pem = Encoding.ASCII.GetString(body);
        if (!pem.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
            throw new AcmeException(AcmeFailure.MalformedResponse, $"The certificate at {certificateUrl} is not a PEM certificate chain.");
        return new CertificateDownload(certificateUrl, pem, LinkHeaders(response, "alternate", certificateUrl));
    }

    /// <summary>
    /// The renewal information of RFC 9773 for a certificate, when the directory offers renewalInfo; null otherwise.
    /// The request is an unauthenticated GET of renewalInfo/{certID} (section 4.1).
    /// </summary>
    public async Task<RenewalInfo?> GetRenewalInfoAsync(X509Certificate2 certificate, CancellationToken cancellationToken = default)
    {
        var directory = await GetDirectoryAsync(cancellationToken);
        if (directory.RenewalInfo is null) return null;
        var certId = RenewalInfo.CertificateIdentifier(certificate);
        if (certId is null) return null;
        var url = directory.RenewalInfo.TrimEnd('/') + "/" + certId;
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, url), url, cancellationToken);
        var body = await ReadBodyAsync(response, cancellationToken);
        if (!response.IsSuccessStatusCode) throw Refusal(response, body, $"reading the renewal information {url}");
        var resource = Deserialize(body, AcmeJson.Default.RenewalInfoResource, url);
        if (resource.SuggestedWindow is null || resource.SuggestedWindow.End <= resource.SuggestedWindow.Start)
            throw new AcmeException(AcmeFailure.MalformedResponse, $"The renewal information at {url} has no valid suggestedWindow.");
        return new RenewalInfo(resource.SuggestedWindow, resource.ExplanationUrl, RetryAfterOf(response), _time.GetUtcNow());
    }

    // ---------------------------------------------------------------- transport

    /// <summary>The Location header resolved against the request URL and checked (<see cref="AcmeServerUrl"/>); null when absent.</summary>
    private string? LocationOf(HttpResponseMessage response, string requestUrl, string what) =>
        response.Headers.Location is { } location
            ? AcmeServerUrl.Check(new Uri(new Uri(requestUrl), location).ToString(), DirectoryUrl, what).ToString()
            : null;

    private async Task<T> PostAsGetAsync<T>(string url, JsonTypeInfo<T> type, CancellationToken cancellationToken) =>
        (await PostAsGetWithRetryAfterAsync(url, type, cancellationToken)).Value;

    private async Task<(T Value, TimeSpan? RetryAfter)> PostAsGetWithRetryAfterAsync<T>(string url, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        using var response = await PostAsync(url, null, useJwk: false, accept: null, cancellationToken);
        return (await ReadAsync(response, type, url, cancellationToken), RetryAfterOf(response));
    }

    /// <summary>A signed POST; on badNonce it is signed again with a new nonce, up to <see cref="MaxBadNonceRetries"/> times.</summary>
    private async Task<HttpResponseMessage> PostAsync(string url, byte[]? payload, bool useJwk, string? accept, CancellationToken cancellationToken)
    {
        if (!useJwk && AccountUrl is null)
            throw new InvalidOperationException("The ACME account is not registered yet; call RegisterAsync first.");
        // Every URL posted to came from the server (directory, Location, order, authorization, Link): none may leave https.
        AcmeServerUrl.Check(url, DirectoryUrl, "the resource URL");
        for (var attempt = 0; ; attempt++)
        {
            var nonce = await TakeNonceAsync(cancellationToken);
            var jws = _key.Sign(payload, url, nonce, useJwk ? null : AccountUrl);
            var response = await SendAsync(() =>
            {
                var request = new HttpRequestMessage(HttpMethod.Post, url)
                {
                    Content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(jws, AcmeJson.Default.JwsMessage)),
                };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue(JoseJson);
                if (accept is not null) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
                return request;
            }, url, cancellationToken);
            if (response.IsSuccessStatusCode) return response;
            using (response)
            {
                var body = await ReadBodyAsync(response, cancellationToken);
                var refusal = Refusal(response, body, $"POST {url}");
                if (refusal.Problem?.Is(AcmeErrors.BadNonce) == true && attempt < MaxBadNonceRetries) continue;
                throw refusal;
            }
        }
    }

    private async Task<string> TakeNonceAsync(CancellationToken cancellationToken)
    {
        if (_nonces.TryTake(out var nonce)) return nonce;
        var directory = await GetDirectoryAsync(cancellationToken);
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Head, directory.NewNonce), directory.NewNonce!, cancellationToken);
        if (_nonces.TryTake(out nonce)) return nonce;
        throw new AcmeException(AcmeFailure.MalformedResponse, $"The ACME server gave no Replay-Nonce at {directory.NewNonce} (HTTP {(int)response.StatusCode}).");
    }

    /// <summary>
    /// Sends the request and reads the whole answer into memory, at most <see cref="MaxBodyBytes"/>, all within
    /// <see cref="RequestTimeout"/>: the response handed back holds its body already, so no later read can hang.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> request, string url, CancellationToken cancellationToken)
    {
        using var timer = new CancellationTokenSource(RequestTimeout, _time);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
        HttpResponseMessage? response = null;
        try
        {
            using (var message = request())
            {
                message.Headers.UserAgent.ParseAdd("appliance-acme/1");
                response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            }
            await BufferBodyAsync(response, url, deadline.Token);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            response?.Dispose();
            throw new AcmeException(AcmeFailure.Unreachable, response is null
                ? $"The ACME server could not be reached at {url}: {e.Message} Check the directory URL, the DNS settings and that the appliance may connect out on HTTPS."
                : $"The connection to the ACME server broke while reading {url}: {e.Message} Try again later.", inner: e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            response?.Dispose();
            var limit = (_http.Timeout < RequestTimeout ? _http.Timeout : RequestTimeout).TotalSeconds;
            throw new AcmeException(AcmeFailure.Unreachable, response is null
                ? $"The ACME server at {url} did not answer within {limit:0} s. Check the directory URL and the appliance's outbound HTTPS access."
                : $"The ACME server at {url} did not send its whole answer within {limit:0} s; the appliance stopped reading. Try again later.", inner: e);
        }
        catch
        {
            response?.Dispose();
            throw;
        }
        if (response.Headers.TryGetValues("Replay-Nonce", out var nonces))
            foreach (var value in nonces)
                if (!string.IsNullOrWhiteSpace(value)) _nonces.Add(value.Trim());
        return response;
    }

    /// <summary>Replaces the response's streamed content by the same bytes in memory; refuses an answer over <see cref="MaxBodyBytes"/>.</summary>
    private static async Task BufferBodyAsync(HttpResponseMessage response, string url, CancellationToken cancellationToken)
    {
        var original = response.Content;
        if (original.Headers.ContentLength > MaxBodyBytes) throw TooLarge(url, $"announced {original.Headers.ContentLength} bytes");
        using var body = new MemoryStream();
        await using (var stream = await original.ReadAsStreamAsync(cancellationToken))
        {
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (body.Length + read > MaxBodyBytes) throw TooLarge(url, $"sent more than {MaxBodyBytes} bytes");
                body.Write(chunk, 0, read);
            }
        }
        var buffered = new ByteArrayContent(body.ToArray());
        foreach (var header in original.Headers) buffered.Headers.TryAddWithoutValidation(header.Key, header.Value);
        response.Content = buffered;
        original.Dispose();
    }

    private static AcmeException TooLarge(string url, string what) =>
        new(AcmeFailure.MalformedResponse,
            $"The ACME server's answer to {url} {what}; the appliance reads at most {MaxBodyBytes} bytes (1 MiB) and stopped. The CA is failing or this is not an ACME server; try again later.");

    /// <summary>The answer's body, already in memory (<see cref="SendAsync"/>).</summary>
    private static Task<byte[]> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken) =>
        response.Content.ReadAsByteArrayAsync(cancellationToken);

    private static async Task<T> ReadAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, string url, CancellationToken cancellationToken) =>
        Deserialize(await ReadBodyAsync(response, cancellationToken), type, url);

    private static T Deserialize<T>(byte[] body, JsonTypeInfo<T> type, string url)
    {
        try
        {
            return JsonSerializer.Deserialize(body, type)
                ?? throw new AcmeException(AcmeFailure.MalformedResponse, $"The ACME server answered {url} with an empty JSON document.");
        }
        catch (JsonException e)
        {
            throw new AcmeException(AcmeFailure.MalformedResponse, $"The ACME server answered {url} with malformed JSON ({e.Message}); it may not be an ACME server, or it is failing. Try again later.", inner: e);
        }
    }

    /// <summary>An error response as an exception: the problem document when there is one (RFC 8555 section 6.7).</summary>
    private AcmeException Refusal(HttpResponseMessage response, byte[] body, string what)
    {
        var status = (int)response.StatusCode;
        var retryAfter = RetryAfterOf(response);
        AcmeProblem? problem = null;
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (mediaType is "application/problem+json" or "application/json")
        {
            try
            {
                problem = JsonSerializer.Deserialize(body, AcmeJson.Default.AcmeProblem);
            }
            catch (JsonException)
            {
                // Not a problem document after all; reported by status below.
            }
        }
        if (problem is null)
            return new AcmeException(status is 429 or 503 && retryAfter is not null ? AcmeFailure.RateLimited : AcmeFailure.MalformedResponse,
                $"The ACME server answered {what} with HTTP {status} {response.ReasonPhrase} and no problem document. Try again later; if it persists, check the directory URL.",
                null, retryAfter);
        problem = problem with { Status = problem.Status ?? status };
        var reason = problem.Is(AcmeErrors.RateLimited) || (status == 503 && retryAfter is not null) ? AcmeFailure.RateLimited : AcmeFailure.Refused;
        return new AcmeException(reason, $"The ACME server refused {what}: {problem.Describe()}.{Advice(problem, retryAfter)}", problem, retryAfter);
    }

    /// <summary>What the admin can do about a problem type (RFC 8555 section 6.7); branches on type, never on text.</summary>
    private static string Advice(AcmeProblem problem, TimeSpan? retryAfter) => problem.Type switch
    {
        AcmeErrors.RateLimited => retryAfter is { } wait ? $" The CA's rate limit applies; the appliance tries again after {wait.TotalMinutes:0} minutes." : " The CA's rate limit applies; the appliance tries again later.",
        AcmeErrors.ExternalAccountRequired => " The CA requires external account binding: enter the EAB key id and HMAC key it gave you.",
        AcmeErrors.Unauthorized => " Check the EAB key id and HMAC key, or that the account is allowed to request this name.",
        AcmeErrors.UserActionRequired => " Open the CA's terms of service or website and complete what it asks, then try again.",
        AcmeErrors.RejectedIdentifier or AcmeErrors.UnsupportedIdentifier => " The CA will not issue for this name; check the hostname.",
        AcmeErrors.Caa => " The hostname's CAA DNS records do not allow this CA; add the CA to them.",
        AcmeErrors.Dns => " The CA could not resolve the hostname; check its DNS records.",
        AcmeErrors.Connection or AcmeErrors.IncorrectResponse => " The CA could not fetch the challenge answer from port 80 of this appliance; make sure the hostname points here and port 80 is reachable from the internet.",
        AcmeErrors.AccountDoesNotExist => " Register the ACME server again.",
        _ => "",
    };

    /// <summary>Retry-After as seconds or an HTTP date (RFC 9110 section 10.2.3), as a delay from now.</summary>
    private TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header is null) return null;
        if (header.Delta is { } delta) return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        if (header.Date is { } date)
        {
            var wait = date - _time.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }
        return null;
    }

    private async Task DelayAsync(TimeSpan? retryAfter, DateTimeOffset deadline, string what, CancellationToken cancellationToken)
    {
        var wait = retryAfter ?? DefaultPollInterval;
        if (wait > MaxPollInterval) wait = MaxPollInterval;
        if (_time.GetUtcNow() + wait > deadline)
            throw new AcmeException(AcmeFailure.TimedOut, $"The ACME server did not finish {what} by {deadline:u}; the appliance tries again later.");
        await Task.Delay(wait, _time, cancellationToken);
    }

    /// <summary>The targets of Link headers with the given rel (RFC 8288), resolved against the request URL.</summary>
    internal static IReadOnlyList<string> LinkHeaders(HttpResponseMessage response, string rel, string baseUrl)
    {
        var links = new List<string>();
        if (!response.Headers.TryGetValues("Link", out var values)) return links;
        foreach (var value in values)
            foreach (var link in SplitLinks(value))
            {
                var close = link.IndexOf('>');
                if (!link.StartsWith('<') || close < 0) continue;
                var target = link[1..close];
                var parameters = link[(close + 1)..].Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (parameters.Any(p => p.StartsWith("rel=", StringComparison.OrdinalIgnoreCase)
                                        && p[4..].Trim('"').Split(' ').Contains(rel, StringComparer.OrdinalIgnoreCase)))
                    links.Add(new Uri(new Uri(baseUrl), target).ToString());
            }
        return links;
    }

    private static IEnumerable<string> SplitLinks(string header)
    {
        // Links are separated by commas outside <...> and quotes.
        var start = 0;
        var inAngle = false;
        var inQuote = false;
        for (var i = 0; i < header.Length; i++)
        {
            var ch = header[i];
            if (ch == '<' && !inQuote) inAngle = true;
            else if (ch == '>' && !inQuote) inAngle = false;
            else if (ch == '"' && !inAngle) inQuote = !inQuote;
            else if (ch == ',' && !inAngle && !inQuote)
            {
                yield return header[start..i].Trim();
                start = i + 1;
            }
        }
        if (start < header.Length) yield return header[start..].Trim();
    }
}

/// <summary>The external account binding credentials a CA hands out (RFC 8555 section 7.3.4).</summary>
public sealed record ExternalAccountBinding(string KeyId, string HmacKey)
{
    public override string ToString() => $"EAB key id {KeyId}"; // never the HMAC key
}

/// <summary>A downloaded certificate chain (PEM, leaf first) and the URLs of the alternate chains the server offers.</summary>
public sealed record CertificateDownload(string Url, string ChainPem, IReadOnlyList<string> Alternates);

/// <summary>RFC 9773 renewal information for one certificate, as fetched at <see cref="FetchedAt"/>.</summary>
public sealed record RenewalInfo(AcmeRenewalWindow SuggestedWindow, string? ExplanationUrl, TimeSpan? RetryAfter, DateTimeOffset FetchedAt)
{
    /// <summary>
    /// The certID of RFC 9773 section 4.1: base64url(AKI keyIdentifier) "." base64url(serial DER content bytes);
    /// null when the certificate has no authority key identifier.
    /// </summary>
    public static string? CertificateIdentifier(X509Certificate2 certificate)
    {
        var aki = certificate.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().FirstOrDefault();
        if (aki?.KeyIdentifier is not { } keyIdentifier) return null;
        return Base64Url.EncodeToString(keyIdentifier.Span) + "." + Base64Url.EncodeToString(certificate.SerialNumberBytes.Span);
    }
}
