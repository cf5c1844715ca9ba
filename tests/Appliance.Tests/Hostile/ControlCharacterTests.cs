using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Appliance.Audit;

namespace Appliance.Tests.Hostile;

/// <summary>Control bytes and bidirectional overrides in names, ids and file names: escaped in the audit log and in the service log.</summary>
public sealed class ControlCharacterTests : IAsyncLifetime
{
    private ApplianceProcess _appliance = null!;

    public async ValueTask InitializeAsync() => _appliance = await ApplianceProcess.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_appliance is not null) await _appliance.DisposeAsync();
    }

    [Fact]
    public async Task ControlBytesInAFriendlyNameAnIdAFileNameAndAUsernameAreEscapedInTheAuditLogAndTheServiceLog()
    {
        using var admin = await _appliance.LoginAsync();

        // A friendly name with a right-to-left override ("evil‮gnp.exe" reads as "evilexe.png").
        var created = await admin.PostAsJsonAsync("certificate-requests", new
        {
            friendlyName = "evil\u202egnp.exe", key = "ecdsa-p256", subject = new { commonName = "bidi.example" },
            subjectAlternativeNames = new[] { "bidi.example" }, selfSigned = true,
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        // An id that clears the screen and starts a forged log line.
        var deleted = await admin.DeleteAsync("certificates/%1B%5B2J%0D%0AAudit%3A%20forged%7F");
        Assert.Equal(HttpStatusCode.NotFound, deleted.StatusCode);

        // A file name with ESC, DEL, a C1 control and a bidi override (an empty file: refused with its name).
        var form = new ByteArrayContent(Encoding.UTF8.GetBytes(
            "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\u001b[31m\u007f\u009b\u202e.pem\"\r\nContent-Type: application/octet-stream\r\n\r\n\r\n--b--\r\n"));
        form.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=b");
        var imported = await admin.PostAsync("certificates/import", form);
        Assert.Equal(HttpStatusCode.BadRequest, imported.StatusCode);

        // A login with NUL and ESC in the username (anonymous: counted for its source and minute).
        using var stranger = _appliance.Client();
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await stranger.PostAsJsonAsync("session", new { username = "adm\0in\u001b[31m", password = "wrong password" })).StatusCode);

        var entries = (await Json.ReadAsync(await admin.GetAsync("audit?limit=100"))).GetProperty("entries").EnumerateArray().ToList();
        var texts = entries.SelectMany(e => e.EnumerateObject()).Where(p => p.Value.ValueKind == JsonValueKind.String).Select(p => p.Value.GetString()!).ToList();
        Assert.DoesNotContain(texts, t => t.Any(SafeText.IsUnsafe));
        Assert.Contains(entries, e => e.GetProperty("action").GetString() == "Created the self-signed certificate 'evil\\u202egnp.exe'");
        var refusedDelete = Assert.Single(entries, e => e.GetProperty("method").GetString() == "DELETE");
        Assert.Equal("/appliance/api/v1/certificates/\\x1b[2J\\x0d\\x0aAudit: forged\\x7f", refusedDelete.GetProperty("path").GetString());
        Assert.Contains("'\\x1b[2J\\x0d\\x0aAudit: forged\\x7f'", refusedDelete.GetProperty("detail").GetString());
        var refusedImport = Assert.Single(entries, e => e.GetProperty("path").GetString()!.EndsWith("/certificates/import", StringComparison.Ordinal));
        // ASP.NET Core's multipart reader drops the C0 and C1 bytes of a file name; the bidi override arrives and is escaped.
        Assert.StartsWith("x[31m\\u202e.pem: the file is empty.", refusedImport.GetProperty("detail").GetString());
        var login = Assert.Single(entries, e => e.GetProperty("anonymous").GetBoolean());
        Assert.Equal("adm\\x00in\\x1b[31m", login.GetProperty("username").GetString());

        // The Audit log page shows the escapes as text.
        var page = await admin.GetStringAsync($"https://127.0.0.1:{_appliance.HttpsPort}/appliance/audit");
        Assert.Contains("evil\\u202egnp.exe", page);
        Assert.Contains("\\x1b[2J\\x0d\\x0aAudit: forged\\x7f", page);
        Assert.Contains("adm\\x00in\\x1b[31m", page);
        foreach (var encoded in new[] { "&#x1B;", "&#x202E;", "&#x0;", "&#xD;", "&#x7F;", "&#x9B;" })
            Assert.DoesNotContain(encoded, page, StringComparison.OrdinalIgnoreCase);

        // The service log: escaped too, and no forged line.
        var output = _appliance.Output;
        Assert.DoesNotContain(output, c => c != '\n' && c != '\r' && SafeText.IsUnsafe(c));
        Assert.DoesNotContain(output.Split('\n'), line => line.TrimStart().StartsWith("Audit: forged", StringComparison.Ordinal));
        Assert.Contains("\\x1b[2J\\x0d\\x0aAudit: forged\\x7f", output);
        Assert.Contains("evil\\u202egnp.exe", output);
    }
}
