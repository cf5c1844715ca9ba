using System.Net;
using Appliance.Acme;
using Appliance.Acme.Caa;
using Appliance.Acme.Preflight;
using Appliance.Platform;
using Appliance.Acme.Renewal;
using Appliance.Storage;
using Appliance.Certificates.Store;
using Appliance.Certificates.Vault;
using Appliance.Email;
using Appliance.Platform.Email;

namespace Appliance.Hosting;

/// <summary>Wires the ACME client into the service: the challenge store, the service, the scheduler and its background loop.</summary>
internal static partial class AcmeHosting
{
    public static void AddAcme(IServiceCollection services, StateDatabase database, IKeyVault vault, CertificateStore store, TimeProvider time, string? caFile,
        int httpPort, IPAddress bind, IPEndPoint? dnsServer)
    {
        var challenges = new Http01ChallengeStore();
        var http = AcmeHttp.CreateClient(caFile);
        var caa = new CaaCheck(new DnsClient(dnsServer ?? DnsClient.SystemServer(ReadResolvConf())));
        services.AddSingleton(challenges);
        services.AddSingleton(sp => new AcmeService(database, vault, store, challenges, http, time) { Caa = caa });
        // Port 80 is probed at the bound address when the listener binds one; else at the hostname's address or loopback.
        var probe = bind.Equals(IPAddress.Any) || bind.Equals(IPAddress.IPv6Any) ? null : bind;
        services.AddSingleton(sp => new AcmePreflight(new SystemHostnameResolver(), new InterfaceAddresses(sp.GetRequiredService<SystemFacts>()),
            challenges, http, httpPort, probe, caa) { IssuedBy = sp.GetRequiredService<AcmeService>().IssuedCertificatesOf });
        services.AddSingleton(sp => new EmailSettingsStore(database, vault, time));
        services.AddSingleton<SmtpMailer>();
        services.AddSingleton<AdminMail>();
        services.AddSingleton<IRenewalAlerts, ServiceRenewalAlerts>();
        services.AddSingleton(sp => new RenewalScheduler(sp.GetRequiredService<AcmeService>(), sp.GetRequiredService<IRenewalAlerts>(), time));
        services.AddHostedService<RenewalHostedService>();
    }

    private static string? ReadResolvConf()
    {
        try
        {
            return File.ReadAllText(DnsClient.ResolvConf);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // no resolv.conf: the resolver library's default, 127.0.0.1
        }
    }

    /// <summary>
    /// Answers GET /.well-known/acme-challenge/{token} on the HTTP listener (RFC 8555 section 8.3) with the key
    /// authorization as text/plain, 404 for any other token or the bare challenge path. Returns false for other paths.
    /// </summary>
    public static async Task<bool> AnswerChallengeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments("/.well-known/acme-challenge")) return false;
        var path = context.Request.Path.Value ?? "";
        var answer = path.StartsWith(Http01ChallengeStore.PathPrefix, StringComparison.Ordinal)
            ? context.RequestServices.GetRequiredService<Http01ChallengeStore>().Answer(path[Http01ChallengeStore.PathPrefix.Length..])
            : null;
        if (answer is null || !(HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)))
        {
            context.Response.StatusCode = 404;
            return true;
        }
        context.Response.ContentType = "text/plain";
        await context.Response.WriteAsync(answer, context.RequestAborted);
        return true;
    }

    [LoggerMessage(EventId = EventIds.Acme.Issued, Level = LogLevel.Information, Message = "Automated certificate for {Hostname} ({Id}) issued: certificate {CertificateId}")]
    public static partial void LogIssued(ILogger logger, string hostname, string id, string? certificateId);

    [LoggerMessage(EventId = EventIds.Acme.NotIssued, Level = LogLevel.Warning, Message = "Automated certificate for {Hostname} ({Id}) not issued: {Error}")]
    public static partial void LogNotIssued(ILogger logger, string hostname, string id, string? error);

    [LoggerMessage(EventId = EventIds.Acme.RenewalAlert, Level = LogLevel.Warning, Message = "Renewal alert: {Text}")]
    public static partial void LogAlert(ILogger logger, string text);

    [LoggerMessage(EventId = EventIds.Acme.AlertNotMailed, Level = LogLevel.Error, Message = "The renewal alert for {Hostname} could not be mailed: {Error}")]
    public static partial void LogAlertNotMailed(ILogger logger, string hostname, string error);

    [LoggerMessage(EventId = EventIds.Acme.SchedulerFailed, Level = LogLevel.Error, Message = "The renewal scheduler failed; it starts again in a minute")]
    public static partial void LogSchedulerFailed(ILogger logger, Exception exception);
}

/// <summary>Runs the renewal scheduler for the life of the service and logs each attempt once.</summary>
internal sealed class RenewalHostedService(RenewalScheduler scheduler, TimeProvider time, ILogger<RenewalHostedService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        scheduler.Attempted += certificate =>
        {
            if (certificate.LastError is null) AcmeHosting.LogIssued(logger, LogText.Escape(certificate.Hostname), LogText.Escape(certificate.Id), LogText.Escape(certificate.CertificateId));
            else AcmeHosting.LogNotIssued(logger, LogText.Escape(certificate.Hostname), LogText.Escape(certificate.Id), LogText.Escape(certificate.LastError, 2048));
        };
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await scheduler.RunAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                AcmeHosting.LogSchedulerFailed(logger, e);
                try { await Task.Delay(TimeSpan.FromMinutes(1), time, stoppingToken); } catch (OperationCanceledException) { return; }
            }
        }
    }
}

/// <summary>This appliance's addresses from its interfaces, loopback included (a name may resolve to 127.0.0.1 on a lab box).</summary>
internal sealed class InterfaceAddresses(SystemFacts facts) : ILocalAddresses
{
    public IReadOnlyList<IPAddress> Addresses() =>
        facts.Interfaces(includeLoopback: true).SelectMany(i => i.Addresses)
            .Select(a => IPAddress.TryParse(a.Address, out var ip) ? ip : null).OfType<IPAddress>().ToList();
}
