using System.Net;
using System.Text.Json;

namespace Appliance.Tests;

/// <summary>The OpenAPI document at /appliance/api/openapi.json (DESIGN.md): only for admins, and true to the service's own route table.</summary>
[Collection(ApplianceCollection.Name)]
public sealed class ApiDocumentTests(ApplianceFixture fixture)
{
    private ApplianceProcess Appliance => fixture.Appliance;

    [Fact]
    public async Task TheDocumentNeedsAnAdmin()
    {
        using var client = Appliance.Client();
        using var response = await client.GetAsync("../openapi.json");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task TheDocumentDescribesEveryApiRouteWithItsBodiesAndHowToAuthenticate()
    {
        using var client = await Appliance.LoginAsync();
        using var response = await client.GetAsync("../openapi.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = document.RootElement;
        Assert.StartsWith("3.", root.GetProperty("openapi").GetString());
        Assert.Equal("B Series appliance API", root.GetProperty("info").GetProperty("title").GetString());
        var paths = root.GetProperty("paths");

        // Every API route the service maps (its own route table), with its method; nothing else.
        var routes = (await ApplianceProcess.RoutesAsync())
            .Where(r => r.Pattern.StartsWith("/appliance/api/v1/", StringComparison.Ordinal) && r.Method != "*").ToList();
        Assert.True(routes.Count > 30, $"only {routes.Count} API routes listed");
        var missing = routes.Where(r => !paths.TryGetProperty(r.Pattern.TrimEnd('/'), out var path) || !path.TryGetProperty(r.Method.ToLowerInvariant(), out _))
            .Select(r => $"{r.Method} {r.Pattern}").ToList();
        Assert.Empty(missing);
        Assert.Equal(routes.Select(r => r.Pattern.TrimEnd('/')).Distinct().Count(), paths.EnumerateObject().Count());
        foreach (var path in paths.EnumerateObject())
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Name != "parameters"))
                Assert.False(string.IsNullOrWhiteSpace(operation.Value.GetProperty("summary").GetString()), $"{operation.Name} {path.Name} has no summary");

        // Bodies: the JSON contracts the handlers use, and the import's multipart form.
        var schemas = root.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.GetProperty("CertificateDto").GetProperty("properties").TryGetProperty("sha256Fingerprint", out _));
        Assert.EndsWith("/CertificateDto", paths.GetProperty("/appliance/api/v1/certificates/{id}").GetProperty("get").GetProperty("responses")
            .GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        Assert.EndsWith("/AutomatedCertificateBody", paths.GetProperty("/appliance/api/v1/acme/certificates").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        var upload = paths.GetProperty("/appliance/api/v1/certificates/import").GetProperty("post").GetProperty("requestBody")
            .GetProperty("content").GetProperty("multipart/form-data").GetProperty("schema").GetProperty("properties");
        Assert.Equal("binary", upload.GetProperty("file").GetProperty("items").GetProperty("format").GetString());
        // Every reference resolves.
        foreach (var reference in References(root))
            Assert.True(schemas.TryGetProperty(reference["#/components/schemas/".Length..], out _), $"{reference} does not resolve");

        // A token or the session cookie everywhere, except for logging in.
        var schemes = root.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("bearer", schemes.GetProperty("token").GetProperty("scheme").GetString());
        Assert.Equal("__Secure-appliance_session", schemes.GetProperty("session").GetProperty("name").GetString());
        Assert.Equal(2, root.GetProperty("security").GetArrayLength());
        Assert.Equal(0, paths.GetProperty("/appliance/api/v1/session").GetProperty("post").GetProperty("security").GetArrayLength());
    }

    [Fact]
    public async Task EveryOperationListsItsRefusalsAsProblemDocumentsAndTheSchemasSayWhatTheHandlersAccept()
    {
        using var client = await Appliance.LoginAsync();
        using var document = JsonDocument.Parse(await client.GetStringAsync("../openapi.json"));
        var root = document.RootElement;
        var paths = root.GetProperty("paths");
        foreach (var path in paths.EnumerateObject())
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Name != "parameters"))
            {
                var responses = operation.Value.GetProperty("responses");
                var write = operation.Name != "get";
                int[] expected = write ? [400, 401, 409, 507] : [400, 401];
                foreach (var status in expected)
                {
                    Assert.True(responses.TryGetProperty(status.ToString(), out var response), $"{operation.Name} {path.Name} does not list {status}");
                    Assert.EndsWith("/ProblemDetails", response.GetProperty("content").GetProperty("application/problem+json").GetProperty("schema").GetProperty("$ref").GetString());
                }
                if (operation.Value.TryGetProperty("requestBody", out var body) && body.GetProperty("content").TryGetProperty("application/json", out _))
                    Assert.True(responses.TryGetProperty("413", out _) && responses.TryGetProperty("415", out _), $"{operation.Name} {path.Name} takes JSON but lists no 413/415");
            }
        Assert.True(paths.GetProperty("/appliance/api/v1/session").GetProperty("post").GetProperty("responses").TryGetProperty("429", out _));
        Assert.True(paths.GetProperty("/appliance/api/v1/certificates/{id}").GetProperty("get").GetProperty("responses").TryGetProperty("404", out _));

        var schemas = root.GetProperty("components").GetProperty("schemas");
        Assert.Equal(["detail", "status", "title", "type"], schemas.GetProperty("ProblemDetails").GetProperty("required").EnumerateArray().Select(r => r.GetString()).Order());
        // Refused when null, so not nullable; required where a missing member is refused; lengths and enums as enforced.
        var session = schemas.GetProperty("SessionRequest");
        Assert.Equal("string", session.GetProperty("properties").GetProperty("username").GetProperty("type").GetString());
        Assert.Equal(256, session.GetProperty("properties").GetProperty("username").GetProperty("maxLength").GetInt32());
        Assert.Equal(["password", "username"], session.GetProperty("required").EnumerateArray().Select(r => r.GetString()).Order());
        Assert.Equal(["letsencrypt", "buypass", "custom"], schemas.GetProperty("AcmeServerBody").GetProperty("properties").GetProperty("type").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("pkcs12", schemas.GetProperty("ExportBody").GetProperty("properties").GetProperty("format").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(64, schemas.GetProperty("CreateRequestBody").GetProperty("properties").GetProperty("friendlyName").GetProperty("maxLength").GetInt32());
        Assert.False(schemas.GetProperty("EmailSettingsBody").TryGetProperty("required", out var emailRequired) && emailRequired.GetArrayLength() > 0, "PUT email takes every member as optional");
        Assert.Equal("ip-address", schemas.GetProperty("AddressDto").GetProperty("properties").GetProperty("address").GetProperty("format").GetString());
        Assert.Equal(["tpm", "software"], schemas.GetProperty("StatusDto").GetProperty("properties").GetProperty("keyProtection").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        // The audit query is documented as the handler parses it.
        var audit = paths.GetProperty("/appliance/api/v1/audit").GetProperty("get").GetProperty("parameters");
        Assert.Equal(["limit", "before"], audit.EnumerateArray().Select(p => p.GetProperty("name").GetString()));
    }

    private static IEnumerable<string> References(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().SelectMany(p =>
            p.Name == "$ref" && p.Value.ValueKind == JsonValueKind.String ? [p.Value.GetString()!] : References(p.Value)),
        JsonValueKind.Array => element.EnumerateArray().SelectMany(References),
        _ => [],
    };
}
