using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CsCheck;

namespace Appliance.Tests.Hostile;

/// <summary>
/// Walks every operation of the served OpenAPI document with generated valid, boundary and invalid bodies, query
/// parameters and path segments (CsCheck, seeded), against its own appliance, with an API token. Fails on a 5xx, a
/// status the operation does not list, an error that is not problem+json, or a success that does not match its schema.
/// About 300 requests per operation, at most 3 s each (API_FUZZ_CASES sets the count).
/// </summary>
public sealed class OpenApiPropertyTests : IAsyncLifetime
{
    /// <summary>Generated requests per operation (API_FUZZ_CASES), and the time each operation may take at most.</summary>
    private static readonly int CasesPerOperation = int.TryParse(Environment.GetEnvironmentVariable("API_FUZZ_CASES"), out var n) ? n : 300;
    private static readonly TimeSpan TimePerOperation = TimeSpan.FromSeconds(3);

    /// <summary>Values that name a peer the appliance would contact point at a closed loopback port (discard, port 9).</summary>
    private const string ClosedUrl = "https://127.0.0.1:9/directory";

    private ApplianceProcess _appliance = null!;
    private HttpClient _client = null!;
    private string _tokenId = null!;

    public async ValueTask InitializeAsync()
    {
        _appliance = await ApplianceProcess.StartAsync();
        using var session = await _appliance.LoginAsync();
        var created = await Json.ReadAsync(await session.PostAsJsonAsync("tokens", new { name = "property test" }));
        _tokenId = created.GetProperty("id").GetString()!;
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
            UseCookies = false,
            AllowAutoRedirect = false,
        };
        _client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
        _client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", created.GetProperty("token").GetString());
    }

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        if (_appliance is not null) await _appliance.DisposeAsync();
    }

    [Fact]
    public async Task EveryOperationAnswersGeneratedRequestsWithADocumentedStatusAndBody()
    {
        var text = await _client.GetStringAsync(new Uri($"https://127.0.0.1:{_appliance.HttpsPort}/appliance/api/openapi.json"));
        using var document = JsonDocument.Parse(text);
        var schemas = new JsonSchemaSubset(document.RootElement);
        var ids = await KnownIdsAsync();
        var failures = new List<string>();
        var requests = 0;
        var statuses = new SortedDictionary<int, int>();
        var clock = Stopwatch.StartNew();
        var seed = 1;
        foreach (var path in document.RootElement.GetProperty("paths").EnumerateObject())
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Name != "parameters"))
            {
                var method = operation.Name.ToUpperInvariant();
                var generator = new RequestGenerator(schemas, ids, method, path.Name, operation.Value, _tokenId);
                var cases = generator.Request().Array[CasesPerOperation];
                var started = Stopwatch.StartNew();
                // One sample holding every case of the operation: the seed alone decides them (no shrinking on a live box).
                await cases.SampleAsync(async batch =>
                {
                    foreach (var request in batch)
                    {
                        if (started.Elapsed > TimePerOperation) break;
                        var problem = await SendAndCheckAsync(schemas, operation.Value, method, request);
                        requests++;
                        statuses[problem.Status] = statuses.GetValueOrDefault(problem.Status) + 1;
                        // Every 5xx is kept (they are listed first); other breaches up to 200.
                        if (problem.Failure is { } failure && (problem.Status >= 500 || failures.Count < 200))
                            failures.Add($"{method} {request.Target}: {failure}");
                    }
                }, iter: 1, threads: 1, seed: Seed(seed++));
            }

        var summary = $"{requests} requests in {clock.Elapsed.TotalSeconds:0} s; statuses: {string.Join(", ", statuses.Select(s => $"{s.Key}x{s.Value}"))}";
        TestContext.Current.TestOutputHelper?.WriteLine(summary);
        Console.WriteLine(summary);
        Assert.True(requests > 1000, $"only {requests} requests were made");
        // The appliance still serves its admin: the walk did not lock itself out.
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync(_appliance.BaseUri + "status")).StatusCode);
        Assert.True(failures.Count == 0, $"{failures.Count} of {requests} requests broke the contract:\n{string.Join("\n", failures.Distinct().OrderBy(f => f.Contains(": 5", StringComparison.Ordinal) ? 0 : 1).Take(60))}");
    }

    private async Task<(int Status, string? Failure)> SendAndCheckAsync(JsonSchemaSubset schemas, JsonElement operation, string method, GeneratedRequest generated)
    {
        var uri = new Uri($"https://127.0.0.1:{_appliance.HttpsPort}{generated.Target}", new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var request = new HttpRequestMessage(new HttpMethod(method), uri);
        if (generated.Body is { } body)
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) { Headers = { ContentType = MediaTypeHeaderValue.Parse(generated.ContentType) } };
        HttpResponseMessage response;
        try
        {
            response = await _client.SendAsync(request);
        }
        catch (HttpRequestException e)
        {
            return (0, $"no answer ({e.Message}) to body {Short(generated.Body)}");
        }
        using (response)
        {
            var status = (int)response.StatusCode;
            var content = await response.Content.ReadAsStringAsync();
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            var responses = operation.GetProperty("responses");
            // A 5xx is a failure, except 502 where the operation documents it: a server the appliance was told to ask
            // (an ACME directory, an SMTP server) did not answer, which no request can prevent.
            if (status >= 500 && !(status == 502 && responses.TryGetProperty("502", out _)))
                return (status, $"{status} {Short(content)} for body {Short(generated.Body)}");
            // Kestrel refuses a target that decodes to NUL while parsing the request line, before the application:
            // a bare 400 closing the connection (MalformedRequestTests.ANulInAPathSegmentIsRefusedBeforeTheApplication).
            if (status == 400 && generated.Target.Split('?')[0].Contains("%00", StringComparison.Ordinal) && content.Length == 0 && response.Headers.ConnectionClose == true)
                return (status, null);
            if (!responses.TryGetProperty(status.ToString(CultureInfo.InvariantCulture), out var documented))
                return (status, $"{status} is not documented ({Short(content)}) for body {Short(generated.Body)}");
            if (status >= 400)
            {
                if (mediaType != "application/problem+json") return (status, $"{status} answered {mediaType ?? "no content type"}: {Short(content)}");
                using var problem = JsonDocument.Parse(content);
                var detail = problem.RootElement.TryGetProperty("detail", out var d) ? d.GetString() : null;
                if (string.IsNullOrWhiteSpace(detail) || problem.RootElement.GetProperty("status").GetInt32() != status)
                    return (status, $"{status} problem without detail or with another status: {Short(content)}");
                return (status, null);
            }
            if (!documented.TryGetProperty("content", out var contents)) return (status, content.Length == 0 ? null : $"{status} has a body the document does not list");
            if (mediaType is null || !contents.TryGetProperty(mediaType, out var media))
                return (status, $"{status} answered {mediaType}, the document lists {string.Join(", ", contents.EnumerateObject().Select(c => c.Name))}");
            if (mediaType != "application/json" || !media.TryGetProperty("schema", out var schema)) return (status, null);
            using var json = JsonDocument.Parse(content);
            return (status, schemas.Check(json.RootElement, schema) is { } mismatch ? $"{status} body does not match its schema: {mismatch}" : null);
        }
    }

    /// <summary>Ids that exist (so that valid requests reach the handlers), besides the generated ones.</summary>
    private async Task<IReadOnlyList<string>> KnownIdsAsync()
    {
        var certificates = await Json.ReadAsync(await _client.GetAsync(_appliance.BaseUri + "certificates"));
        return certificates.EnumerateArray().Select(c => c.GetProperty("id").GetString()!).Append("admin").ToList();
    }

    /// <summary>A CsCheck seed (its own alphabet) made from a number, one per operation.</summary>
    private static string Seed(int n) => "00000000000" + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[n % 62];

    private static string Short(string? text) => text is null ? "(none)" : text.Length <= 160 ? text : text[..160] + "...";

    /// <summary>One generated request: the target as sent (path and query, escapes kept), the body and its content type.</summary>
    public sealed record GeneratedRequest(string Target, string? Body, string ContentType)
    {
        public override string ToString() => $"{Target} {Body}";
    }

    /// <summary>Request generators for one operation, from its path, parameters and body schema.</summary>
    private sealed class RequestGenerator(JsonSchemaSubset schemas, IReadOnlyList<string> ids, string method, string path, JsonElement operation, string ownTokenId)
    {
        private static readonly string[] HostileSegments =
        [
            ".", "..", "%2e", "%2E%2E", "%00", "a%00b", "%1b%5b31m%0d%0a", "a%2Fb", "%ff", "%C0%AF", "%25", "%20", "~", "-", "0",
            "9999999999999999999999", "-1", "%E2%80%AE", "x".PadRight(300, 'x'), "%22%27%3C", "*", "{id}",
        ];

        private static readonly string[] HostileJson =
        [
            "null", "{}", "[]", "[null]", "\"\"", "0", "-1", "1.5", "1e309", "99999999999999999999999", "2147483648", "-9223372036854775809",
            "true", "\"\\u0000\\u001b[31m\\r\\n\"", "\".\"", "\"..\"", "\"%00\"", "\"../../etc/passwd\"", "[[[[[[[[]]]]]]]]",
            "{\"a\":{\"b\":{}}}", "\"\\ud800\"", "\"2026-13-45T99:00:00Z\"", "\"\\u202e\\u2028\"", "{\"__proto__\":1}",
        ];

        public Gen<GeneratedRequest> Request() =>
            Gen.Select(Target(), Body(), (target, body) => new GeneratedRequest(target, body.Body, body.ContentType));

        private Gen<string> Target()
        {
            var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries)
                .Select(s => s.StartsWith('{') ? Segment(s) : Gen.Const(s)).ToList();
            var gen = Gen.Const("");
            foreach (var segment in segments) gen = Gen.Select(gen, segment, (a, b) => a + "/" + b);
            if (!operation.TryGetProperty("parameters", out var parameters)) return gen;
            foreach (var parameter in parameters.EnumerateArray().Where(p => p.GetProperty("in").GetString() == "query"))
            {
                var name = parameter.GetProperty("name").GetString()!;
                var value = Gen.Frequency<string?>(
                    (3, Gen.Const((string?)null)),
                    (4, Json(parameter.GetProperty("schema"), name, 0, hostile: false).Select(j => (string?)Uri.EscapeDataString(j.Trim('"')))),
                    (3, Gen.OneOf(HostileSegments).Select(s => (string?)s)));
                gen = Gen.Select(gen, value, (target, v) => v is null ? target : target + (target.Contains('?') ? "&" : "?") + name + "=" + v);
            }
            return gen;
        }

        /// <summary>A path parameter: an existing id, a made-up one, or a hostile segment; never the token or admin this test uses.</summary>
        private Gen<string> Segment(string parameter)
        {
            var known = ids.Where(id => !(method == "DELETE" && id == "admin")).ToArray();
            var gen = Gen.Frequency<string>(
                (3, known.Length > 0 ? Gen.OneOf(known) : Gen.Const("0")),
                (2, Gen.Char["0123456789abcdef"].Array[1, 16].Select(c => new string(c))),
                (4, Gen.OneOf(HostileSegments)));
            return gen.Select(s => s == ownTokenId ? "0" : s);
        }

        private Gen<(string? Body, string ContentType)> Body()
        {
            if (!operation.TryGetProperty("requestBody", out var requestBody)) return Gen.Const<(string?, string)>((null, "application/json"));
            var content = requestBody.GetProperty("content");
            if (!content.TryGetProperty("application/json", out var json))
                return Gen.OneOf<(string?, string)>((null, "application/json"), ("--x--", "multipart/form-data; boundary=x"), ("{}", "application/json"));
            var schema = json.GetProperty("schema");
            return Gen.Frequency<(string?, string)>(
                (12, Json(schema, null, 0, hostile: true).Select(b => ((string?)b, "application/json"))),
                (1, Gen.OneOf("{", "not json", "", "{\"a\":1,}", "\uFEFF{}", new string('[', 100)).Select(b => ((string?)b, "application/json"))),
                (1, Json(schema, null, 0, hostile: false).Select(b => ((string?)b, "text/plain"))),
                (1, Gen.Const<(string?, string)>((null, "application/json"))));
        }

        /// <summary>JSON text for a schema: valid values, boundaries, and (when hostile) wrong types, nulls and odd strings.</summary>
        private Gen<string> Json(JsonElement schema, string? member, int depth, bool hostile)
        {
            schema = schemas.Resolve(schema);
            var valid = Valid(schema, member, depth, hostile);
            return hostile ? Gen.Frequency<string>((7, valid), (1, Gen.Const("null")), (2, Gen.OneOf(HostileJson.Append(LongString(schema)).ToArray()))) : valid;
        }

        private Gen<string> Valid(JsonElement schema, string? member, int depth, bool hostile)
        {
            if (schema.TryGetProperty("oneOf", out var oneOf)) return Gen.OneOf(oneOf.EnumerateArray().Select(s => Json(s, member, depth, hostile)).ToArray());
            var types = JsonSchemaSubset.Types(schema);
            var options = new List<Gen<string>>();
            if (types.Contains("null")) options.Add(Gen.Const("null"));
            if (schema.TryGetProperty("enum", out var values))
                return Gen.OneOf(values.EnumerateArray().Select(v => v.GetRawText()).ToArray());
            if (types.Contains("string")) options.Add(String(schema, member));
            if (types.Contains("integer") || types.Contains("number")) options.Add(Integer(schema, member));
            if (types.Contains("boolean")) options.Add(Gen.OneOf("true", "false"));
            if (types.Contains("array") && schema.TryGetProperty("items", out var items) && depth < 4)
            {
                var list = Json(items, member, depth + 1, hostile).Array[0, 3].Select(a => "[" + string.Join(",", a) + "]");
                // Nulls among the items, the fault a fuzzer found first (issue 10).
                options.Add(hostile ? Gen.Frequency<string>((4, list), (1, list.Select(l => l.Length == 2 ? "[null]" : l[..^1] + ",null]"))) : list);
            }
            if ((types.Contains("object") || types.Count == 0) && schema.TryGetProperty("properties", out var properties) && depth < 4)
                options.Add(Object(schema, properties, depth, hostile));
            return options.Count == 0 ? Gen.Const("{}") : Gen.OneOf(options.ToArray());
        }

        private Gen<string> Object(JsonElement schema, JsonElement properties, int depth, bool hostile)
        {
            var required = schema.TryGetProperty("required", out var r) ? r.EnumerateArray().Select(x => x.GetString()!).ToHashSet() : [];
            var gen = Gen.Const(new List<string>());
            foreach (var property in properties.EnumerateObject())
            {
                var name = property.Name;
                var value = Json(property.Value, name, depth + 1, hostile);
                var member = required.Contains(name)
                    ? Gen.Frequency<string?>((9, value.Select(v => (string?)v)), (1, Gen.Const((string?)null)))
                    : Gen.Frequency<string?>((3, value.Select(v => (string?)v)), (2, Gen.Const((string?)null)));
                gen = Gen.Select(gen, member, (list, m) => m is null ? list : [.. list, $"{JsonSerializer.Serialize(name)}:{m}"]);
            }
            return gen.Select(members => "{" + string.Join(",", members) + "}");
        }

        private static Gen<string> String(JsonElement schema, string? member)
        {
            var format = schema.TryGetProperty("format", out var f) ? f.GetString() : null;
            var min = schema.TryGetProperty("minLength", out var mn) ? mn.GetInt32() : 0;
            var max = schema.TryGetProperty("maxLength", out var mx) ? mx.GetInt32() : 40;
            Gen<string> text = member switch
            {
                "server" => Gen.OneOf("127.0.0.1", "localhost"),
                "directoryUrl" or "website" or "termsOfService" => Gen.Const(ClosedUrl),
                "hostname" => Gen.OneOf("site.test", "a.example", "*.example.com", "127.0.0.1"),
                "key" when schema.TryGetProperty("pattern", out _) => Gen.OneOf("ecdsa-p256", "ecdsa-p384", "rsa-2048", "existing:0000", "dsa-1024"),
                "trustedCertificate" => Gen.OneOf("", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
                _ => format switch
                {
                    "date-time" => Gen.OneOf("2026-01-01T00:00:00Z", "1970-01-01T00:00:00+00:00"),
                    "uri" => Gen.Const(ClosedUrl),
                    "email" => Gen.OneOf("admin@example.com", "a@b", "@", "admin@example.com\r\nBcc: x@example.com"),
                    "ip-address" => Gen.OneOf("192.0.2.10", "2001:db8::10", "192.0.2.300", "::ffff:192.0.2.10", "fe80::1%eth0"),
                    _ => Gen.Frequency<string>(
                        (6, Gen.Char["abcxyz0189.-_@ "].Array[Math.Min(min, 40), Math.Min(max, 40)].Select(c => new string(c))),
                        (1, Gen.Const(new string('m', Math.Max(min, Math.Min(max, 5000))))),
                        (1, Gen.Char['\u0000', '\u00ff'].Array[Math.Min(min, 20), Math.Min(max, 20)].Select(c => new string(c)))),
                },
            };
            return text.Select(s => JsonSerializer.Serialize(s));
        }

        private static Gen<string> Integer(JsonElement schema, string? member)
        {
            if (member == "port") return Gen.OneOf("9", "1", "65535", "0", "65536");
            long min = schema.TryGetProperty("minimum", out var mn) ? long.Parse(mn.ToString(), CultureInfo.InvariantCulture) : -5;
            long max = schema.TryGetProperty("maximum", out var mx) ? long.Parse(mx.ToString(), CultureInfo.InvariantCulture) : 100_000;
            return Gen.Frequency<string>(
                (4, Gen.Long[min, max].Select(v => v.ToString(CultureInfo.InvariantCulture))),
                (1, Gen.OneOf(min.ToString(CultureInfo.InvariantCulture), max.ToString(CultureInfo.InvariantCulture),
                    (min - 1).ToString(CultureInfo.InvariantCulture), (max + 1).ToString(CultureInfo.InvariantCulture))));
        }

        /// <summary>A string one character over the member's maxLength (or 5,000 characters when it has none).</summary>
        private static string LongString(JsonElement schema) =>
            JsonSerializer.Serialize(new string('z', schema.TryGetProperty("maxLength", out var max) ? max.GetInt32() + 1 : 5000));
    }
}
