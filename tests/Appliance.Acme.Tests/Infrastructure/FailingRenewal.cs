using System.Net;
using Appliance.Acme.Renewal;
using Appliance.Certificates.Formats;
using Microsoft.Extensions.Time.Testing;
using static Appliance.Acme.Tests.Infrastructure.ScriptedAcmeHandler;

namespace Appliance.Acme.Tests.Infrastructure;

/// <summary>
/// The scheduler on a fake clock with a CA that fails every order, for an automated certificate of shop.example.com
/// issued 59 days before <see cref="Expiry"/> and valid for 90 days; <see cref="PassAtAsync"/> runs one scheduler pass.
/// </summary>
public sealed class FailingRenewal : IDisposable
{
    public static readonly DateTimeOffset Expiry = new(2026, 9, 30, 12, 0, 0, TimeSpan.Zero);

    private FailingRenewal(FakeTimeProvider time, TestState state, ScriptedAcmeHandler ca)
    {
        Time = time;
        State = state;
        Ca = ca;
    }

    public FakeTimeProvider Time { get; }
    public TestState State { get; }
    public ScriptedAcmeHandler Ca { get; }
    public AcmeService Service { get; private set; } = null!;
    public RenewalScheduler Scheduler { get; private set; } = null!;
    public AutomatedCertificate Certificate { get; private set; } = null!;
    public int Orders => Ca.Requests.Count(r => r.Route == "POST /order");

    public static async Task<FailingRenewal> StartAsync(IRenewalAlerts alerts)
    {
        var time = new FakeTimeProvider(Expiry - TimeSpan.FromDays(31));
        var setup = new FailingRenewal(time, new TestState(time), new ScriptedAcmeHandler());
        setup.Ca.On("GET /dir", _ => Json(Directory()), repeat: true)
            .On("POST /acct", _ => Json("""{"status":"valid"}""", HttpStatusCode.Created, location: Base + "/acct/1"))
            .On("POST /order", _ => Problem(AcmeErrors.ServerInternal, "the CA is down for maintenance", HttpStatusCode.InternalServerError), repeat: true);
        var service = new AcmeService(setup.State.Database, setup.State.Vault, setup.State.Store, new Http01ChallengeStore(), new HttpClient(setup.Ca), time);
        var server = await service.RegisterServerAsync(new AcmeServerSpec("custom", Base + "/dir", null, null, "admin@example.com", null, null));
        var requested = service.RequestCertificate(server.Id, "shop.example.com", "ecdsa-p256");

        using var key = KeyFactory.Generate("ecdsa-p256");
        var certificate = CertificateRequestFactory.CreateSelfSigned(new SubjectName(null, null, null, null, null, "shop.example.com"), ["shop.example.com"],
            key, Expiry - TimeSpan.FromDays(90), Expiry);
        var stored = setup.State.Store.StoreIssued(certificate.ExportCertificatePem(), key, "shop.example.com");
        service.Repository.UpdateCertificate(requested.Id, AutomatedCertificateStatus.Valid, null, null, null, RenewalHistory.Empty, stored.Id);
        setup.Service = service;
        setup.Scheduler = new RenewalScheduler(service, alerts, time);
        setup.Certificate = service.GetCertificate(requested.Id);
        return setup;
    }

    public async Task<AutomatedCertificate> PassAtAsync(double daysBeforeExpiry)
    {
        Time.SetUtcNow(Expiry - TimeSpan.FromDays(daysBeforeExpiry));
        await Scheduler.RunDueAsync(CancellationToken.None);
        await Scheduler.WhenIdleAsync();
        return Service.GetCertificate(Certificate.Id);
    }

    public void Dispose() => State.Dispose();
}
