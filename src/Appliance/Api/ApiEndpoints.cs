using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Appliance.Accounts;
using Appliance.Audit;
using Appliance.Hosting;
using Appliance.Certificates.Formats;
using Appliance.Certificates.Store;
using Microsoft.AspNetCore.Http.Features;

namespace Appliance.Api;

/// <summary>The HTTP API v1 under /appliance/api/v1 (DESIGN.md "The HTTP API").</summary>
internal static class ApiEndpoints
{
    /// <summary>Everything of the API: the versioned routes and the OpenAPI document.</summary>
    public const string Root = "/appliance/api";
    public const string Prefix = Root + "/v1";
    /// <summary>Whether a request is the API's (answered with status codes and problem+json, never pages or redirects).</summary>
    public static bool IsApi(PathString path) => path.StartsWithSegments(Root);
    /// <summary>The OpenAPI document of the API (DESIGN.md), for admins with a session or a token like every route.</summary>
    public const string OpenApiDocument = Root + "/openapi.json";
    /// <summary>
    /// The session cookie: <c>__Secure-</c> (RFC 6265bis 4.1.3.1: only a secure origin may set it) with Path=/appliance,
    /// not <c>__Host-</c>, which needs Path=/ and would send the admin's session to the site's upstream.
    /// </summary>
    public const string SessionCookie = "__Secure-appliance_session";
    /// <summary>Import uploads larger than this answer 413.</summary>
    public const long MaxImportBytes = 10 * 1024 * 1024;
    public const long MaxJsonBytes = 64 * 1024;

    public static void Map(WebApplication app)
    {
        var api = app.MapGroup(Prefix);

        api.MapPost("/session", async (HttpContext context, AccountStore accounts) =>
        {
            var body = await ReadJson(context, ApiJson.Default.SessionRequest);
            if (string.IsNullOrEmpty(body.Username) || string.IsNullOrEmpty(body.Password))
                return Problem(400, "Enter both the username and the password.");
            Account account;
            try
            {
                account = await SessionLogin.LogInAsync(context, accounts, body.Username, body.Password);
            }
            catch (AccountException e)
            {
                // Answered here rather than by ErrorMiddleware: it would drop Retry-After and log each refusal of a flood.
                return Problem(e.Status, e.Message);
            }
            return Results.Json(new SessionResponse(account.Username, account.MustChangePassword,
                DateTimeOffset.UtcNow + AccountStore.IdleTimeout), ApiJson.Default.SessionResponse);
        }).Accepts<SessionRequest>("application/json").Produces<SessionResponse>().WithSummary("Log in: sets the session cookie").AddOpenApiOperationTransformer(ApiDocument.Anonymous).Refuses(429).Audited("Log in");

        api.MapDelete("/session", (HttpContext context, AccountStore accounts) =>
        {
            if (context.Request.Cookies.TryGetValue(SessionCookie, out var secret)) accounts.Logout(secret);
            context.Response.Cookies.Delete(SessionCookie, SessionCookieOptions(context));
            AuditTrail.Done(context, "Signed out");
            return Results.NoContent();
        }).Produces(204).WithSummary("Sign out").Audited("Sign out");

        api.MapPut("/password", async (HttpContext context, AccountStore accounts) =>
        {
            var body = await ReadJson(context, ApiJson.Default.PasswordRequest);
            await accounts.ChangePasswordAsync(AuthenticationMiddleware.AccountOf(context), AuthenticationMiddleware.SessionSecretOf(context),
                body.CurrentPassword ?? "", body.NewPassword ?? "", context.RequestAborted);
            AuditTrail.Done(context, "Changed their own password");
            return Results.NoContent();
        }).Accepts<PasswordRequest>("application/json").Produces(204).WithSummary("Change the signed-in admin's password (their other sessions end)").Audited("Change their own password");

        api.MapGet("/tokens", (AccountStore accounts) =>
            Results.Json(accounts.ListTokens().Select(t => new TokenDto(t.Id, t.Name, t.CreatedAt, t.LastUsedAt, null)).ToList(), ApiJson.Default.ListTokenDto))
            .Produces<List<TokenDto>>().WithSummary("List the API tokens");

        api.MapPost("/tokens", async (HttpContext context, AccountStore accounts) =>
        {
            var body = await ReadJson(context, ApiJson.Default.TokenRequest);
            var (token, secret) = accounts.CreateToken(AuthenticationMiddleware.AccountOf(context), body.Name ?? "");
            AuditTrail.Done(context, TokenAudit.Created(token.Name));
            return Results.Json(new TokenDto(token.Id, token.Name, token.CreatedAt, null, secret), ApiJson.Default.TokenDto, statusCode: 201);
        }).Accepts<TokenRequest>("application/json").Produces<TokenDto>(201).WithSummary("Create an API token (its secret is in this answer only)").Audited("Create an API token");

        api.MapDelete("/tokens/{id}", (string id, HttpContext context, AccountStore accounts) =>
        {
            var name = accounts.ListTokens().FirstOrDefault(t => t.Id == id)?.Name;
            if (name is null || !accounts.RevokeToken(id)) return Problem(404, $"There is no API token with id '{id}'.");
            AuditTrail.Done(context, TokenAudit.Revoked(name));
            return Results.NoContent();
        }).Produces(204).WithSummary("Revoke an API token").Audited("Revoke an API token");

        api.MapGet("/status", (StatusService status) => Results.Json(status.Read(), ApiJson.Default.StatusDto))
            .Produces<StatusDto>().WithSummary("The appliance's status: version, key protection, TPM, vault");

        api.MapGet("/certificates", (CertificateStore store, Tls.Ocsp.OcspStapling stapling) =>
            Results.Json(store.ListCertificates().Select(c => CertificateDto.From(c, stapling)).ToList(), ApiJson.Default.ListCertificateDto))
            .Produces<List<CertificateDto>>().WithSummary("List the certificates");

        api.MapGet("/certificates/{id}", (string id, CertificateStore store, Tls.Ocsp.OcspStapling stapling) =>
            Results.Json(CertificateDto.From(store.GetCertificate(id), stapling), ApiJson.Default.CertificateDto))
            .Produces<CertificateDto>().WithSummary("One certificate");

        api.MapPost("/certificates/import", async (HttpContext context, CertificateStore store) =>
        {
            var (files, password) = await ReadUpload(context);
            var result = store.Import(files, password, context.RequestAborted);
            AuditTrail.Done(context, CertificateAudit.Imported(result));
            return Results.Json(new ImportResultDto(
                result.Certificates.Select(CertificateDto.From).ToList(),
                result.Keys.Select(KeyDto.From).ToList(),
                result.Warnings), ApiJson.Default.ImportResultDto);
        }).Produces<ImportResultDto>().AddOpenApiOperationTransformer(ApiDocument.DescribeUpload).Refuses(413, 415, 503)
            .WithSummary("Import certificates and keys: form fields file (one or more) and password; the format is found from the content")
            .Audited("Import certificates");

        api.MapPost("/certificates/export", async (HttpContext context, CertificateStore store) =>
        {
            var body = await ReadJson(context, ApiJson.Default.ExportBody);
            var format = (body.Format ?? "pem").ToLowerInvariant() switch
            {
                "pem" => ExportFormat.Pem,
                "pkcs12" => ExportFormat.Pkcs12,
                "pkcs7" => ExportFormat.Pkcs7,
                var other => throw new CertificateStoreException(StoreFailure.Invalid, $"The export format '{other}' is not known; use pem, pkcs12 or pkcs7."),
            };
            var spec = new ExportSpec(body.Ids ?? [], body.Certificate, body.PrivateKey, body.Chain, body.Passphrase, format);
            var file = store.Export(spec);
            AuditTrail.Done(context, CertificateAudit.Exported(spec, spec.Ids.Select(id => store.GetCertificate(id).FriendlyName)));
            return Results.File(file.Content, file.ContentType, file.FileName);
        }).Accepts<ExportBody>("application/json").Produces(200, contentType: "application/octet-stream")
            .WithSummary("Export certificates, keys (with a passphrase) and chains as PEM, PKCS#12 or PKCS#7").Refuses(503).Audited("Export certificates");

        api.MapPut("/certificates/default", async (HttpContext context, CertificateStore store) =>
        {
            var body = await ReadJson(context, ApiJson.Default.DefaultBody);
            store.SetDefault(string.IsNullOrEmpty(body.Id) ? null : body.Id);
            AuditTrail.Done(context, CertificateAudit.Default(string.IsNullOrEmpty(body.Id) ? null : store.GetCertificate(body.Id).FriendlyName));
            return Results.NoContent();
        }).Accepts<DefaultBody>("application/json").Produces(204).WithSummary("Set the default certificate").Audited("Set the default certificate");

        api.MapDelete("/certificates/{id}", (string id, HttpContext context, CertificateStore store) =>
        {
            var name = store.GetCertificate(id).FriendlyName;
            store.Delete(id);
            AuditTrail.Done(context, CertificateAudit.Deleted(name));
            return Results.NoContent();
        }).Produces(204).WithSummary("Delete a certificate").Audited("Delete a certificate");

        api.MapGet("/certificate-requests", (CertificateStore store) =>
            Results.Json(store.ListRequests().Select(CertificateRequestDto.From).ToList(), ApiJson.Default.ListCertificateRequestDto))
            .Produces<List<CertificateRequestDto>>().WithSummary("List the certificate requests");

        api.MapGet("/certificate-requests/{id}", (string id, CertificateStore store) =>
            Results.Json(CertificateRequestDto.From(store.GetRequest(id)), ApiJson.Default.CertificateRequestDto))
            .Produces<CertificateRequestDto>().WithSummary("One certificate request, with its PEM data");

        api.MapDelete("/certificate-requests/{id}", (string id, HttpContext context, CertificateStore store) =>
        {
            var name = store.GetRequest(id).FriendlyName;
            store.DeleteRequest(id);
            AuditTrail.Done(context, CertificateAudit.DeletedRequest(name));
            return Results.NoContent();
        }).Produces(204).WithSummary("Delete a certificate request").Audited("Delete a certificate request");

        api.MapPost("/certificate-requests", async (HttpContext context, CertificateStore store) =>
        {
            var body = await ReadJson(context, ApiJson.Default.CreateRequestBody);
            var spec = new CreateCertificateSpec(body.FriendlyName ?? "", body.Key ?? "", body.Subject?.ToSubject() ?? new SubjectName(null, null, null, null, null, null),
                body.SubjectAlternativeNames ?? [], body.SelfSigned);
            var (request, certificate) = store.Create(spec);
            AuditTrail.Done(context, CertificateAudit.Created(request, certificate));
            return certificate is not null
                ? Results.Json(CertificateDto.From(certificate), ApiJson.Default.CertificateDto, statusCode: 201)
                : Results.Json(CertificateRequestDto.From(request!), ApiJson.Default.CertificateRequestDto, statusCode: 201);
        }).Accepts<CreateRequestBody>("application/json").Produces<CertificateRequestDto>(201).AddOpenApiOperationTransformer(ApiDocument.RequestOrCertificate)
            .WithSummary("Create a certificate request (CSR) or, with selfSigned, a self-signed certificate")
            .Refuses(503).Audited("Create a certificate request or self-signed certificate");

        Network.NetworkEndpoints.Map(api);
        UserEndpoints.Map(api);
        AuditEndpoints.Map(api);

        api.MapFallback((HttpContext context, EndpointDataSource endpoints) =>
        {
            var allowed = ApiMethods.At(endpoints, context.Request.Path);
            if (allowed.Count == 0) return Problem(404, ApiRequestGuard.DetailFor(404, context));
            // The route takes this method but not this body's content type (routing's Accepts check, RFC 9110 section 15.5.16).
            if (allowed.Contains(context.Request.Method, StringComparer.OrdinalIgnoreCase)) return Problem(415, ApiRequestGuard.DetailFor(415, context));
            context.Response.Headers.Allow = string.Join(", ", allowed);
            return Problem(405, ApiRequestGuard.DetailFor(405, context));
        });
    }

    /// <summary>The session cookie, for the API and the login page alike.</summary>
    public static CookieOptions SessionCookieOptions(HttpContext context) => new()
    {
        HttpOnly = true,
        Secure = true, // /appliance is served over HTTPS only (plain HTTP is redirected)
        SameSite = SameSiteMode.Strict,
        Path = "/appliance",
    };

    /// <summary>A problem+json refusal; its detail also goes to the audit log when the request changes state.</summary>
    public static IResult Problem(int status, string detail) => new AuditedProblem(status, detail);

    private sealed class AuditedProblem(int status, string detail) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            Audit.AuditTrail.Refused(context, detail);
            return Results.Json(new ProblemDto("about:blank", Title(status), status, detail), ApiJson.Default.ProblemDto,
                contentType: "application/problem+json", statusCode: status).ExecuteAsync(context);
        }
    }

    public static string Title(int status) => status switch
    {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        405 => "Method Not Allowed",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        507 => "Insufficient Storage",
        _ => "Error",
    };

    internal static async Task<T> ReadJson<T>(HttpContext context, JsonTypeInfo<T> type)
    {
        if (context.Request.ContentLength > MaxJsonBytes)
            throw new ApiException(413, $"The request body is {context.Request.ContentLength} bytes; at most {MaxJsonBytes} are accepted here.");
        if (context.Request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true)
            throw new ApiException(415, "Send the request body as JSON with 'Content-Type: application/json'.");
        byte[] json;
        using (var buffer = new MemoryStream())
        {
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            json = buffer.ToArray();
        }
        try
        {
            if (JsonShape.NullInArray(json) is { } where)
                throw new ApiException(400, $"The request body holds null at {where}; lists take no null items, leave the item out.");
            return JsonSerializer.Deserialize(json, type)
                ?? throw new ApiException(400, "The request body is empty; send a JSON object.");
        }
        catch (JsonException e)
        {
            throw new ApiException(400, $"The request body is not valid JSON for this route: {JsonShape.Words(e, json)} Check it against the OpenAPI document at {OpenApiDocument}.");
        }
    }

    private static async Task<(List<ImportFile> Files, string? Password)> ReadUpload(HttpContext context)
    {
        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false }) sizeFeature.MaxRequestBodySize = MaxImportBytes;
        if (context.Request.ContentLength > MaxImportBytes)
            throw new ApiException(413, $"The upload is {context.Request.ContentLength} bytes; files of at most {MaxImportBytes / (1024 * 1024)} MB in all can be imported at once.");
        if (!context.Request.HasFormContentType)
            throw new ApiException(415, "Upload the files as multipart/form-data with one or more 'file' parts and an optional 'password'.");
        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (InvalidDataException e)
        {
            throw new ApiException(400, $"The upload is not a valid multipart form: {e.Message}");
        }
        var files = new List<ImportFile>();
        foreach (var part in form.Files)
        {
            using var buffer = new MemoryStream();
            await part.CopyToAsync(buffer, context.RequestAborted);
            var name = Path.GetFileName(part.FileName);
            files.Add(new ImportFile(string.IsNullOrWhiteSpace(name) ? part.Name : name, buffer.ToArray()));
        }
        var password = form.TryGetValue("password", out var values) ? values.ToString() : null;
        return (files, password);
    }
}

/// <summary>A refused request at the HTTP edge (bad content type, size, JSON).</summary>
internal sealed class ApiException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}
