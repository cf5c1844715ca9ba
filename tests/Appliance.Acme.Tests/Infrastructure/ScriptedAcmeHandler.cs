using System.Buffers.Text;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Appliance.Acme.Tests.Infrastructure;

/// <summary>
/// A scripted ACME server in memory: each request goes to the route registered for "METHOD path"; every answer
/// carries a fresh Replay-Nonce. Records the requests and the decoded JWS payloads of POSTs.
/// </summary>
public sealed class ScriptedAcmeHandler : HttpMessageHandler
{
    public const string Base = "https://ca.test";
    private readonly Dictionary<string, Queue<Func<HttpRequestMessage, HttpResponseMessage>>> _routes = [];
    private int _nonce;

    public List<(string Route, string? Payload, string? Nonce)> Requests { get; } = [];

    public ScriptedAcmeHandler()
    {
        On("HEAD /nonce", _ => new HttpResponseMessage(HttpStatusCode.OK), repeat: true);
    }

    public static string Directory(string extra = "") => $$"""
        {"newNonce":"{{Base}}/nonce","newAccount":"{{Base}}/acct","newOrder":"{{Base}}/order"{{extra}}}
        """;

    /// <summary>Answers "METHOD /path" with <paramref name="answer"/>; queued answers are used once each, the last one repeats when <paramref name="repeat"/>.</summary>
    public ScriptedAcmeHandler On(string route, Func<HttpRequestMessage, HttpResponseMessage> answer, bool repeat = false)
    {
        if (!_routes.TryGetValue(route, out var queue)) _routes[route] = queue = new();
        queue.Enqueue(answer);
        if (repeat) _repeating.Add(route);
        return this;
    }

    private readonly HashSet<string> _repeating = [];

    public static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK, string contentType = "application/json", string? location = null)
    {
        var response = new HttpResponseMessage(status) { Content = new StringContent(json, Encoding.UTF8, contentType) };
        response.Content.Headers.ContentType!.CharSet = null;
        if (location is not null) response.Headers.Location = new Uri(location);
        return response;
    }

    public static HttpResponseMessage Problem(string type, string detail, HttpStatusCode status) =>
        Json($$"""{"type":"{{type}}","detail":"{{detail}}","status":{{(int)status}}}""", status, "application/problem+json");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var route = $"{request.Method.Method} {request.RequestUri!.AbsolutePath}";
        string? payload = null, nonce = null;
        if (request.Content is not null && request.Method == HttpMethod.Post)
        {
            using var jws = JsonDocument.Parse(await request.Content.ReadAsStringAsync(cancellationToken));
            payload = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(jws.RootElement.GetProperty("payload").GetString()));
            using var header = JsonDocument.Parse(Base64Url.DecodeFromChars(jws.RootElement.GetProperty("protected").GetString()));
            nonce = header.RootElement.GetProperty("nonce").GetString();
        }
        lock (Requests) Requests.Add((route, payload, nonce));
        if (!_routes.TryGetValue(route, out var queue) || queue.Count == 0)
            return Problem("urn:ietf:params:acme:error:malformed", $"no script for {route}", HttpStatusCode.NotFound);
        var answer = queue.Count > 1 || !_repeating.Contains(route) ? queue.Dequeue() : queue.Peek();
        var response = answer(request);
        response.Headers.Add("Replay-Nonce", $"nonce-{Interlocked.Increment(ref _nonce)}");
        return response;
    }
}
