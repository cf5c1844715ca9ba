using System.Text.Json;
using System.Text.Json.Serialization;
using Appliance.Acme;
using Appliance.Acme.Preflight;
using Appliance.Acme.Renewal;
using Appliance.Audit;
using Appliance.Edge;

namespace Appliance.Api;

internal sealed record AcmeServerBody(string? Type, string? DirectoryUrl, string? Website, string? TermsOfService, string? Email, string? EabKeyId, string? EabHmacKey);

internal sealed record AcmeServerDto(
    string Id, string Type, string DirectoryUrl, string? Website, string? TermsOfService, string? Email, string? EabKeyId,
    string AccountUrl, IReadOnlyList<string> Profiles, DateTimeOffset CreatedAt)
{
    public static AcmeServerDto From(AcmeServer s) =>
        new(s.Id, s.Type, s.DirectoryUrl, s.Website, s.TermsOfService, s.Email, s.EabKeyId, s.AccountUrl, s.Profiles, s.CreatedAt);
}

/// <summary>POST acme/certificates: <c>preferredChain</c> is the issuer common name of the topmost certificate of the chain to keep (certbot's --preferred-chain).</summary>
internal sealed record AutomatedCertificateBody(string? ServerId, string? Hostname, string? KeyType, string? Profile, string? PreferredChain);

internal sealed record RenewalAttemptDto(DateTimeOffset At, bool Succeeded, string? Error);

internal sealed record AutomatedCertificateDto(
    string Id, string ServerId, string Hostname, string KeyType, string? Profile, string Status, string? LastError,
    DateTimeOffset? RenewAfter, string? CertificateId, string? Reason, bool Running, IReadOnlyList<RenewalAttemptDto> History)
{
    /// <summary>The issuer common name of the topmost certificate of the preferred chain; null for the CA's default chain.</summary>
    public string? PreferredChain { get; init; }

    /// <summary>The pre-flight warnings, in the answer to the request only (null elsewhere).</summary>
    public IReadOnlyList<PreflightFindingDto>? Warnings { get; init; }

    public static AutomatedCertificateDto From(AutomatedCertificate c, bool running) => new(
        c.Id, c.ServerId, c.Hostname, c.KeyType, c.Profile,
        AutomatedStatus.Of(c, running), c.LastError,
        c.RenewAfter, c.CertificateId, c.Reason, running,
        c.History.Attempts.Reverse().Select(a => new RenewalAttemptDto(a.At, a.Succeeded, a.Error)).ToList()) { PreferredChain = c.PreferredChain };
}

/// <summary>One pre-flight finding: check "directory"|"http01"|"dns"|"caa"|"issuer"|"failover", severity "warning"|"refusal", and the words.</summary>
internal sealed record PreflightFindingDto(string Check, string Severity, string Message)
{
    public static PreflightFindingDto From(PreflightFinding f) => new(f.Check, f.Severity == PreflightSeverity.Refusal ? "refusal" : "warning", f.Message);
}

/// <summary>RFC 9457 problem with the pre-flight findings as an extension member.</summary>
internal sealed record PreflightProblemDto(string Type, string Title, int Status, string Detail, IReadOnlyList<PreflightFindingDto> Checks);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(AcmeServerBody))]
[JsonSerializable(typeof(AcmeServerDto))]
[JsonSerializable(typeof(List<AcmeServerDto>))]
[JsonSerializable(typeof(AutomatedCertificateBody))]
[JsonSerializable(typeof(AutomatedCertificateDto))]
[JsonSerializable(typeof(List<AutomatedCertificateDto>))]
[JsonSerializable(typeof(PreflightProblemDto))]
internal sealed partial class AcmeApiJson : JsonSerializerContext;

/// <summary>ACME servers and automated certificates under /appliance/api/v1/acme (DESIGN.md "The HTTP API").</summary>
internal static class AcmeEndpoints
{
    public static void Map(WebApplication app)
    {
        // Refused changes and failed ACME operations are answered by ErrorMiddleware (Edge/RefusalMap.cs).
        var acme = app.MapGroup(ApiEndpoints.Prefix + "/acme");

        acme.MapGet("/servers", (AcmeService service) =>
            Results.Json(service.ListServers().Select(AcmeServerDto.From).ToList(), AcmeApiJson.Default.ListAcmeServerDto))
            .Produces<List<AcmeServerDto>>().WithSummary("List the registered ACME servers");

        acme.MapPost("/servers", async (HttpContext context, AcmeService service) =>
        {
            var body = await ApiEndpoints.ReadJson(context, AcmeApiJson.Default.AcmeServerBody);
            var server = await service.RegisterServerAsync(
                new AcmeServerSpec(body.Type, body.DirectoryUrl, body.Website, body.TermsOfService, body.Email, body.EabKeyId, body.EabHmacKey),
                context.RequestAborted);
            AuditTrail.Done(context, AcmeAudit.Registered(server));
            return Results.Json(AcmeServerDto.From(server), AcmeApiJson.Default.AcmeServerDto, statusCode: 201);
        }).Accepts<AcmeServerBody>("application/json").Produces<AcmeServerDto>(201)
            .WithSummary("Register an ACME server (Let's Encrypt, Buypass or custom with EAB): the account is created now").Refuses(429, 502).Audited("Register an ACME server");

        acme.MapPost("/servers/{id}/rollover", async (string id, HttpContext context, AcmeService service) =>
        {
            await service.RolloverAccountKeyAsync(id, context.RequestAborted);
            AuditTrail.Done(context, $"Rolled over the account key at the ACME server {service.GetServer(id).DirectoryUrl}");
            return Results.NoContent();
        }).Produces(204).WithSummary("Roll over the ACME account key").Refuses(429, 502, 503).Audited("Roll over an ACME account key");

        acme.MapDelete("/servers/{id}", (string id, HttpContext context, AcmeService service) =>
        {
            var server = service.GetServer(id);
            service.DeleteServer(id);
            AuditTrail.Done(context, AcmeAudit.DeletedServer(server));
            return Results.NoContent();
        }).Produces(204).WithSummary("Delete an ACME server").Audited("Delete an ACME server");

        acme.MapGet("/certificates", (AcmeService service, RenewalScheduler scheduler) =>
            Results.Json(service.ListCertificates().Select(c => AutomatedCertificateDto.From(c, scheduler.IsRunning(c.Id))).ToList(),
                AcmeApiJson.Default.ListAutomatedCertificateDto))
            .Produces<List<AutomatedCertificateDto>>().WithSummary("List the automated certificates with status and next renewal");

        acme.MapGet("/certificates/{id}", (string id, AcmeService service, RenewalScheduler scheduler) =>
            Results.Json(AutomatedCertificateDto.From(service.GetCertificate(id), scheduler.IsRunning(id)), AcmeApiJson.Default.AutomatedCertificateDto))
            .Produces<AutomatedCertificateDto>().WithSummary("One automated certificate");

        acme.MapPost("/certificates", async (HttpContext context, AcmeService service, RenewalScheduler scheduler, AcmePreflight preflight) =>
        {
            var body = await ApiEndpoints.ReadJson(context, AcmeApiJson.Default.AutomatedCertificateBody);
            var (server, hostname, _, _) = service.ValidateRequest(body.ServerId, body.Hostname, body.KeyType, body.Profile);
            // Pre-flight checks: a refusal stops the request with every finding in words; warnings come with the answer.
            var findings = await preflight.CheckAsync(server, hostname, context.RequestAborted);
            var checks = findings.Select(PreflightFindingDto.From).ToList();
            if (PreflightFinding.Refusal(hostname, findings) is { } refusal)
                return Results.Json(new PreflightProblemDto("about:blank", "Unprocessable Content", 422, refusal, checks),
                    AcmeApiJson.Default.PreflightProblemDto, contentType: "application/problem+json", statusCode: 422);
            var certificate = service.RequestCertificate(body.ServerId, body.Hostname, body.KeyType, body.Profile, body.PreferredChain);
            scheduler.Trigger();
            AuditTrail.Done(context, AcmeAudit.Requested(certificate));
            return Results.Json(AutomatedCertificateDto.From(certificate, false) with { Warnings = checks },
                AcmeApiJson.Default.AutomatedCertificateDto, statusCode: 201);
        }).Accepts<AutomatedCertificateBody>("application/json").Produces<AutomatedCertificateDto>(201).Produces<PreflightProblemDto>(422, "application/problem+json")
            .WithSummary("Request an automated certificate by hostname and key type (pre-flight checks refuse with 422)").Refuses(429, 502).Audited("Request an automated certificate");

        acme.MapDelete("/certificates/{id}", (string id, HttpContext context, AcmeService service, RenewalScheduler scheduler) =>
        {
            if (scheduler.IsRunning(id))
                return Problem.Of(409, "The certificate is being ordered right now; delete it when the order has finished.");
            var certificate = service.GetCertificate(id);
            service.DeleteCertificate(id);
            AuditTrail.Done(context, AcmeAudit.DeletedCertificate(certificate));
            return Results.NoContent();
        }).Produces(204).WithSummary("Delete an automated certificate").Audited("Delete an automated certificate");

        // Forced renewal: starts at once (or joins the running one) and answers 202; GET shows the outcome.
        acme.MapPost("/certificates/{id}/renew", (string id, HttpContext context, AcmeService service, RenewalScheduler scheduler) =>
        {
            var certificate = service.GetCertificate(id);
            _ = scheduler.RenewNowAsync(id);
            AuditTrail.Done(context, AcmeAudit.Renewing(certificate));
            return Results.Json(AutomatedCertificateDto.From(certificate, true), AcmeApiJson.Default.AutomatedCertificateDto, statusCode: 202);
        }).Produces<AutomatedCertificateDto>(202).WithSummary("Renew an automated certificate now").Audited("Renew an automated certificate now");
    }
}
