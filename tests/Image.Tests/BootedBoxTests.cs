using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Image.Tests;

/// <summary>The box booted once for this collection, with the debug credential that puts the security report on the serial console.</summary>
public sealed class BootedBoxFixture : IAsyncLifetime
{
    public Box Box { get; } = new("main", "appliance.debug-security=1");

    public async ValueTask InitializeAsync()
    {
        var image = new FileInfo(Box.Image);
        var zst = new FileInfo(image.FullName + ".zst");
        Figures.Print($"image {image.Name}: {image.Length / 1048576.0:F0} MiB raw"
            + (zst.Exists ? $", {zst.Length / 1048576.0:F1} MiB zstd" : "")
            + $", {SparseMiB(image):F0} MiB allocated");
        await Box.StartAsync();
        Figures.Print($"first boot to READY: {Box.BootToReadySeconds[0]} s (power-on to appliance.service READY=1, QEMU TCG + OVMF)");
    }

    private static double SparseMiB(FileInfo file)
    {
        var info = new System.Diagnostics.ProcessStartInfo("du", ["-m", file.FullName]) { RedirectStandardOutput = true };
        using var du = System.Diagnostics.Process.Start(info)!;
        var text = du.StandardOutput.ReadToEnd();
        du.WaitForExit();
        return double.Parse(text.Split('\t')[0]);
    }

    public async ValueTask DisposeAsync() => await Box.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class BootedBoxCollection : ICollectionFixture<BootedBoxFixture>, ICollectionFixture<OpenSslFixture>
{
    public const string Name = "booted box";
}

public static class Api
{
    public static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Imports leaf, key, intermediate and root (a chain made by openssl) through the API; returns the leaf's id.</summary>
    public static async Task<string> ImportAsync(HttpClient client, OpenSslFixture pki, string stem, string host)
    {
        var form = new MultipartFormDataContent();
        foreach (var file in new[] { stem + ".crt", stem + ".key", "intermediate.crt", "root.crt" })
        {
            var part = new ByteArrayContent(File.ReadAllBytes(pki.Path(file)));
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "file", file);
        }
        var result = await ReadAsync(await client.PostAsync("certificates/import", form));
        return result.GetProperty("certificates").EnumerateArray()
            .Single(c => c.GetProperty("commonName").GetString() == host).GetProperty("id").GetString()!;
    }

    public static async Task<JsonElement> FactoryAsync(HttpClient client) =>
        (await ReadAsync(await client.GetAsync("certificates"))).EnumerateArray().Single(c => c.GetProperty("isFactory").GetBoolean());

    public static string Host(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)] + ".test.example";
}

[Collection(BootedBoxCollection.Name)]
[TestCaseOrderer(typeof(StepOrderer))]
public sealed class BootedBoxTests(BootedBoxFixture fixture, OpenSslFixture pki)
{
    private Box Box => fixture.Box;

    [Fact, Step(1)]
    public void TheServiceReachesReadyThroughSystemdNotify()
    {
        // appliance-ready.service is ordered after the Type=notify unit: it runs once systemd got READY=1.
        Assert.Contains("appliance-ready: appliance.service is active (READY=1)", Box.SerialLog);
        Assert.DoesNotContain("Failed to start", Box.SerialLog);
    }

    [Fact, Step(2)]
    public async Task AppliancePageAnswersThroughTheForwardedPortWithTheFactoryCertificate()
    {
        using var client = await Box.LoginAsync();
        var factory = await Api.FactoryAsync(client);
        using var served = Box.Served(null);
        Assert.Equal(factory.GetProperty("sha256Fingerprint").GetString(), Box.Fingerprint(served));

        using var page = await client.GetAsync($"https://127.0.0.1:{Box.HttpsPort}/appliance");
        Assert.True((int)page.StatusCode < 500, $"/appliance answered {(int)page.StatusCode}");
    }

    [Fact, Step(3)]
    public async Task StatusReportsTpmKeyProtectionAndAnOpenVault()
    {
        var status = await Box.StatusAsync();
        Assert.Equal("tpm", status.GetProperty("keyProtection").GetString());
        Assert.Equal("open", status.GetProperty("vault").GetProperty("state").GetString());
        var tpm = status.GetProperty("tpm");
        Assert.Equal(JsonValueKind.Object, tpm.ValueKind);
        Assert.False(string.IsNullOrEmpty(tpm.GetProperty("manufacturer").GetString()));
        Figures.Print($"TPM in the box: {tpm.GetProperty("manufacturer").GetString()} firmware {tpm.GetProperty("firmwareVersion").GetString()}");
    }

    [Fact, Step(4)]
    public async Task AnImportedCertificateIsChosenBySni()
    {
        var host = Api.Host("sni");
        pki.MakeLeaf("sni", host, [host]);
        using var client = await Box.LoginAsync();
        await Api.ImportAsync(client, pki, "sni", host);
        var factory = await Api.FactoryAsync(client);

        using var leaf = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(pki.Path("sni.crt"));
        using var bySni = Box.Served(host);
        Assert.Equal(Box.Fingerprint(leaf), Box.Fingerprint(bySni));
        using var withoutSni = Box.Served(null);
        Assert.Equal(factory.GetProperty("sha256Fingerprint").GetString(), Box.Fingerprint(withoutSni));
    }

    [Fact, Step(5)]
    public async Task SystemdAnalyzeSecurityInsideTheBoxRatesTheUnitOkOrBetter()
    {
        // appliance-security-report.service runs `systemd-analyze security appliance.service` in the box
        // (only when the credential appliance.debug-security is set) and writes it to the serial console.
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (!Box.SerialLog.Contains("appliance-security-report: end") && DateTime.UtcNow < deadline) await Task.Delay(1000);
        var log = Box.SerialLog;
        var match = Regex.Match(log, @"Overall exposure level for appliance\.service: (\d+\.\d) (\w+)");
        Assert.True(match.Success, "no security report on the serial console:\n" + Box.Tail(log, 80));
        Figures.Print($"systemd-analyze security appliance.service (inside the box): {match.Groups[1].Value} {match.Groups[2].Value}");
        Assert.Contains(match.Groups[2].Value, new[] { "OK", "SAFE" });
    }

    private static string MachineId(string serialLog)
    {
        var match = Regex.Match(serialLog, @"appliance-ready: .* machine-id ([0-9a-f]{32})");
        Assert.True(match.Success, "no machine-id in the ready line:\n" + Box.Tail(serialLog, 40));
        return match.Groups[1].Value;
    }

    [Fact, Step(6)]
    public async Task AnImportSurvivesACleanRebootAndItsKeyUnsealsThroughTheTpm()
    {
        var host = Api.Host("reboot");
        pki.MakeLeaf("reboot", host, [host], "ec:" + pki.Path("p256.param"));
        using (var client = await Box.LoginAsync()) await Api.ImportAsync(client, pki, "reboot", host);
        using var leaf = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(pki.Path("reboot.crt"));

        var machineId = MachineId(Box.SerialLog);
        await Box.StopAsync();
        Assert.Contains("reboot: Power down", Box.SerialLog);
        await Box.StartAsync();
        Figures.Print($"boot to READY after a clean reboot: {Box.BootToReadySeconds[^1]} s");
        // The box keeps its machine-id (from its SMBIOS UUID) although /etc/machine-id is empty on the read-only root.
        Assert.Equal(machineId, MachineId(Box.SerialLog));

        var status = await Box.StatusAsync();
        Assert.Equal("open", status.GetProperty("vault").GetProperty("state").GetString());
        // The handshake signs with the imported key: it was unsealed through the TPM after the reboot.
        using var served = Box.Served(host);
        Assert.Equal(Box.Fingerprint(leaf), Box.Fingerprint(served));
    }
}
