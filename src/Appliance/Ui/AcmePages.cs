using Appliance.Acme;
using Appliance.Acme.Preflight;
using Appliance.Acme.Renewal;
using Appliance.Audit;
using Appliance.Certificates.Formats;
using Appliance.Certificates.Store;
using Appliance.Edge;
using Appliance.Ui.Slices;

namespace Appliance.Ui;

/// <summary>
/// Security :: Automated Certificates (ACME servers: list, Delete, "Register new ACME server") and Security :: Let's
/// Encrypt™ Certificates (Request, the table with Renew and Delete), on the services the ACME API uses
/// (<see cref="AcmeService"/>, <see cref="RenewalScheduler"/>) with the API's words for refusals
/// (<see cref="RefusalMap"/>). The register form changes its fields with the server type without
/// JavaScript: the type is chosen first (a GET form), and the page re-renders with that type's fields.
/// </summary>
internal static class AcmePages
{
    public const string Servers = UiEndpoints.Root + "/security/acme/servers";
    public const string NewServer = Servers + "/new";
    public const string AutomatedCertificates = UiEndpoints.Root + "/security/acme/certificates";

    private const string Section = "security";
    private const string Page = "certificates";

    public static readonly IReadOnlyList<KeyOption> Types =
    [
        new(AcmeServerTypes.LetsEncrypt, "Let's Encrypt"),
        new(AcmeServerTypes.Buypass, "Buypass"),
        new(AcmeServerTypes.Custom, "Custom ACME server"),
    ];

    public static void Map(RouteGroupBuilder ui)
    {
        ui.MapGet("/security/acme/servers/new", IResult (HttpContext context, PageFrame frame, string? type) =>
            AcmeServerView.Create(ServerModel(context, frame, Prefilled(type), null)));

        ui.MapPost("/security/acme/servers/new", async Task<IResult> (HttpContext context, PageFrame frame, AcmeService service) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            string F(string name) => form[name].ToString().Trim();
            var type = Known(F("type"));
            var model = new AcmeServerForm(type, F("directoryUrl"), F("website"), F("termsOfService"), F("email"), F("eabKeyId"));
            var custom = type == AcmeServerTypes.Custom;
            try
            {
                var server = await service.RegisterServerAsync(new AcmeServerSpec(type, model.DirectoryUrl, model.Website, model.TermsOfService,
                    model.Email, custom ? model.EabKeyId : null, custom ? F("eabHmacKey") : null), context.RequestAborted);
                AuditTrail.Done(context, AcmeAudit.Registered(server));
                return frame.Redirect(context, CertificatePages.Certificates, Notice.Ok(
                    $"The ACME server {server.DirectoryUrl} is registered and its account is created. Request a certificate from it under Let's Encrypt™ Certificates."));
            }
            catch (Exception e) when (RefusalMap.Of(e) is { ShownInForm: true } refusal)
            {
                return UiEndpoints.Render(AcmeServerView.Create(ServerModel(context, frame, model, Notice.Error(refusal.Detail))), refusal);
            }
        }).Audited("Register an ACME server");

        ui.MapPost("/security/acme/servers/delete", async Task<IResult> (HttpContext context, PageFrame frame, AcmeService service, CertificateStore store, TimeProvider time) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            try
            {
                var server = service.GetServer(form["id"].ToString());
                service.DeleteServer(server.Id);
                AuditTrail.Done(context, AcmeAudit.DeletedServer(server));
                return frame.Redirect(context, CertificatePages.Certificates, Notice.Ok(
                    $"The ACME server {server.DirectoryUrl} is deleted from the appliance (its account at the CA is left as it is)."));
            }
            catch (Exception e) when (RefusalMap.Of(e) is { ShownInForm: true } refusal)
            {
                return UiEndpoints.Render(CertificatesView.Create(CertificatePages.ListModel(context, frame, store, time, Notice.Error(refusal.Detail))), refusal);
            }
        }).Audited("Delete an ACME server");

        ui.MapPost("/security/acme/certificates", async Task<IResult> (HttpContext context, PageFrame frame, AcmeService service, RenewalScheduler scheduler,
            CertificateStore store, TimeProvider time, AcmePreflight preflight) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var model = new AcmeRequestForm(form["hostname"].ToString().Trim(), form["keyType"].ToString(), form["serverId"].ToString(),
                form["profile"].ToString().Trim(), form["preferredChain"].ToString().Trim());
            try
            {
                if (model.ServerId.Length == 0)
                    throw new AcmeSettingsException(AcmeSettingsFailure.Invalid, "Register an ACME server first (Register new ACME server above), then choose it and click Request.");
                var profile = model.Profile.Length == 0 ? null : model.Profile;
                var (server, hostname, _, _) = service.ValidateRequest(model.ServerId, model.Hostname, model.KeyType, profile);
                // The same pre-flight checks as the API, before anything is stored: a refusal shows every finding in
                // words and keeps the form; warnings come with the confirmation.
                var findings = await preflight.CheckAsync(server, hostname, context.RequestAborted);
                if (PreflightFinding.Refusal(hostname, findings) is { } refusal)
                {
                    AuditTrail.Refused(context, refusal);
                    var notice = new Notice("error", refusal, findings.Where(f => f.Severity == PreflightSeverity.Warning).Select(f => "Also: " + f.Message).ToList());
                    return UiEndpoints.Render(CertificatesView.Create(CertificatePages.ListModel(context, frame, store, time, notice, model)), 422);
                }
                var certificate = service.RequestCertificate(model.ServerId, model.Hostname, model.KeyType, profile, model.PreferredChain.Length == 0 ? null : model.PreferredChain);
                scheduler.Trigger();
                AuditTrail.Done(context, AcmeAudit.Requested(certificate));
                return frame.Redirect(context, CertificatePages.Certificates, Notice.Ok(
                    $"The certificate for {certificate.Hostname} is requested. The appliance orders it now; reload this page to see its status.",
                    findings.Select(f => "Warning: " + f.Message).ToList()));
            }
            catch (Exception e) when (RefusalMap.Of(e) is { ShownInForm: true } refusal)
            {
                return UiEndpoints.Render(CertificatesView.Create(CertificatePages.ListModel(context, frame, store, time, Notice.Error(refusal.Detail), model)), refusal);
            }
        }).Audited("Request an automated certificate");

        // Forced renewal: starts at once (or joins the running order); the table shows the outcome.
        ui.MapPost("/security/acme/certificates/renew", async Task<IResult> (HttpContext context, PageFrame frame, AcmeService service, RenewalScheduler scheduler,
            CertificateStore store, TimeProvider time) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            try
            {
                var certificate = service.GetCertificate(form["id"].ToString());
                _ = scheduler.RenewNowAsync(certificate.Id);
                AuditTrail.Done(context, AcmeAudit.Renewing(certificate));
                return frame.Redirect(context, CertificatePages.Certificates, Notice.Ok(
                    $"The appliance is ordering a new certificate for {certificate.Hostname} now; reload this page to see the outcome."));
            }
            catch (Exception e) when (RefusalMap.Of(e) is { ShownInForm: true } refusal)
            {
                return UiEndpoints.Render(CertificatesView.Create(CertificatePages.ListModel(context, frame, store, time, Notice.Error(refusal.Detail))), refusal);
            }
        }).Audited("Renew an automated certificate now");

        ui.MapPost("/security/acme/certificates/delete", async Task<IResult> (HttpContext context, PageFrame frame, AcmeService service, RenewalScheduler scheduler,
            CertificateStore store, TimeProvider time) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            try
            {
                var certificate = service.GetCertificate(form["id"].ToString());
                if (scheduler.IsRunning(certificate.Id))
                    throw new AcmeSettingsException(AcmeSettingsFailure.Conflict, "The certificate is being ordered right now; delete it when the order has finished.");
                service.DeleteCertificate(certificate.Id);
                AuditTrail.Done(context, AcmeAudit.DeletedCertificate(certificate));
                return frame.Redirect(context, CertificatePages.Certificates, Notice.Ok(
                    $"The automated certificate for {certificate.Hostname} is deleted: it is no longer renewed. The certificate already issued stays under Other Certificates."));
            }
            catch (Exception e) when (RefusalMap.Of(e) is { ShownInForm: true } refusal)
            {
                return UiEndpoints.Render(CertificatesView.Create(CertificatePages.ListModel(context, frame, store, time, Notice.Error(refusal.Detail))), refusal);
            }
        }).Audited("Delete an automated certificate");
    }

    /// <summary>The ACME sections of Security > Certificates.</summary>
    public static AcmePanel Panel(HttpContext context, AcmeRequestForm? form)
    {
        var service = context.RequestServices.GetRequiredService<AcmeService>();
        var scheduler = context.RequestServices.GetRequiredService<RenewalScheduler>();
        var certificates = service.ListCertificates();
        var servers = service.ListServers()
            .Select(s => new AcmeServerRow(s, TypeLabel(s.Type), certificates.Count(c => c.ServerId == s.Id)))
            .ToList();
        var rows = certificates.Select(c =>
        {
            var running = scheduler.IsRunning(c.Id);
            return new AutomatedRow(c, AutomatedStatus.Of(c, running), servers.FirstOrDefault(s => s.Server.Id == c.ServerId)?.Label ?? "(deleted server)", running);
        }).ToList();
        var keyTypes = KeyFactory.KeyTypes.Select(k => new KeyOption(k, CertificatePages.KeyLabel(k).Replace("New key: ", "", StringComparison.Ordinal))).ToList();
        return new AcmePanel(servers, rows, form ?? new AcmeRequestForm("", "ecdsa-p256", servers.FirstOrDefault()?.Server.Id ?? ""), keyTypes);
    }

    public static string TypeLabel(string type) => Types.FirstOrDefault(t => t.Value == type)?.Label ?? type;

    private static string Known(string? type) =>
        AcmeServerTypes.All.Contains(type ?? "") ? type! : AcmeServerTypes.LetsEncrypt;

    /// <summary>The form for a type: Let's Encrypt and Buypass come with their directory URL, website and terms of service.</summary>
    private static AcmeServerForm Prefilled(string? type)
    {
        var known = Known(type);
        var defaults = AcmeServerTypes.Defaults(known);
        return new AcmeServerForm(known, defaults?.DirectoryUrl ?? "", defaults?.Website ?? "", defaults?.TermsOfService ?? "", "", "");
    }

    private static AcmeServerPage ServerModel(HttpContext context, PageFrame frame, AcmeServerForm form, Notice? notice) =>
        new(frame.Build(context, "Automated Certificates :: Register New ACME Server", Section, Page, notice), form, Types);
}
