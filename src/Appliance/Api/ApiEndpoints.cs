using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Appliance.Accounts;
using Appliance.Audit;
using Appliance.Hosting;
using Appliance.Certificates.Formats;
using Appliance.Certificates.Store;
using Appliance.Edge;

namespace Appliance.Api;

/// <summary>The HTTP API v1 under /appliance/api/v1 (DESIGN.md "The HTTP API").</summary>
internal static class ApiEndpoints
{
    /// <summary>Everything of the API: the versioned routes and the OpenAPI document.</summary>
    public const string Root = EdgePaths.ApiRoot;
    public const string Prefix = EdgePaths.ApiPrefix;
    public const string OpenApiDocument = EdgePaths.OpenApiDocument;

    public static void Map(WebApplication app)
    {
        var api = app.MapGroup(Prefix);

        api.MapPost("/session", async (HttpContext context, AccountStore accounts) =>
        {
            var body = await ReadJson(context, ApiJson.Default.SessionRequest);
            if (string.IsNullOrEmpty(body.Username) || string.IsNullOrEmpty(body.Password))
                return Problem.Of(400, "Enter both the username and the password.");
            Account account;
            try
            {
                account = await SessionLogin.LogInAsync(context, accounts, body.Username, body.Password);
            }
            catch (AccountException e) when (RefusalMap.Of(e) is { } refusal)
            {
                // Answered here, with the one mapping, rather than unwound through the pipeline to ErrorMiddleware:
                // a flood of refused logins is the one refusal that comes by the thousand, and need not pay for it.
                return new Problem(refusal);
            }
            return Results.Json(new SessionResponse(account.Username, account.MustChangePassword,
                DateTimeOffset.UtcNow + AccountStore.IdleTimeout), ApiJson.Default.SessionResponse);
        }).Accepts<SessionRequest>("application/json").Produces<SessionResponse>().WithSummary("Log in: sets the session cookie").AddOpenApiOperationTransformer(ApiDocument.Anonymous).Refuses(429).Audited("Log in");

        api.MapDelete("/session", (HttpContext context, AccountStore accounts) =>
        {
            SessionCookie.SignOut(context, accounts);
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
            if (name is null || !accounts.RevokeToken(id)) return Problem.Of(404, $"There is no API token with id '{id}'.");
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
            var upload = await UploadReader.ReadAsync(context);
            var result = store.Import(upload.Files, upload.Password, context.RequestAborted);
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
            var spec = new ExportSpec(body.Ids ?? [], body.Certificate, body.PrivateKey, body.Chain, body.Passphrase, format, body.UnencryptedPrivateKey);
            var file = store.Export(spec);
            AuditTrail.Done(context, CertificateAudit.Exported(spec, spec.Ids.Select(id => store.GetCertificate(id).FriendlyName)));
            return Results.File(file.Content, file.ContentType, file.FileName);
        }).Accepts<ExportBody>("application/json").Produces(200, contentType: "application/octet-stream")
            .WithSummary("Export certificates, keys (with a passphrase, or in clear as PEM only with unencryptedPrivateKey: true) and chains as PEM, PKCS#12 or PKCS#7").Refuses(503).Audited("Export certificates");

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
            if (allowed.Count == 0) return Problem.Of(404, StatusDetails.For(404, context));
            // The route takes this method but not this body's content type (routing's Accepts check, RFC 9110 section 15.5.16).
            if (allowed.Contains(context.Request.Method, StringComparer.OrdinalIgnoreCase)) return Problem.Of(415, StatusDetails.For(415, context));
            context.Response.Headers.Allow = string.Join(", ", allowed);
            return Problem.Of(405, StatusDetails.For(405, context));
        });
    }

    internal static async Task<T> ReadJson<T>(HttpContext context, JsonTypeInfo<T> type)
    {
        if (context.Request.ContentLength > RequestLimits.MaxJsonBytes)
            throw new RequestException(RequestFailure.TooLarge, $"The request body is {context.Request.ContentLength} bytes; at most {RequestLimits.MaxJsonBytes} are accepted here.");
        if (context.Request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true)
            throw new RequestException(RequestFailure.UnsupportedMediaType, "Send the request body as JSON with 'Content-Type: application/json'.");
        byte[] json;
        using (var buffer = new MemoryStream())
        {
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            json = buffer.ToArray();
        }
        try
        {
            if (JsonShape.NullInArray(json) is { } where)
                throw new RequestException(RequestFailure.Invalid, $"The request body holds null at {where}; lists take no null items, leave the item out.");
            return JsonSerializer.Deserialize(json, type)
                ?? throw new RequestException(RequestFailure.Invalid, "The request body is empty; send a JSON object.");
        }
        catch (JsonException e)
        {
            throw new RequestException(RequestFailure.Invalid, $"The request body is not valid JSON for this route: {JsonShape.Words(e, json)} Check it against the OpenAPI document at {OpenApiDocument}.");
        }
    }
}
