using Appliance.Audit;
using Appliance.Certificates;
using Appliance.Certificates.Formats;
using Appliance.Certificates.Store;
using Appliance.Ui.Slices;
using Microsoft.Extensions.Primitives;
using Appliance.Edge;

namespace Appliance.Ui;

/// <summary>
/// Security > Certificates in the seeds' words: Security :: Other Certificates (table, Default column, Export/Delete
/// with Apply, Import, Create) and Security :: Certificate Requests (table, detail with the Request Data, delete).
/// A refused operation re-renders its form with the store's message and changes nothing.
/// </summary>
internal static class CertificatePages
{
    public const string Certificates = UiEndpoints.Root + "/security/certificates";
    public const string Requests = UiEndpoints.Root + "/security/requests";
    public const string Import = EdgePaths.PageImport;

    private const string Section = "security";
    private const string Page = "certificates";

    public static void Map(RouteGroupBuilder ui)
    {
        ui.MapGet("/security", IResult () => Results.Redirect(Certificates));

        ui.MapGet("/security/certificates", IResult (HttpContext context, PageFrame frame, CertificateStore store, TimeProvider time) =>
            CertificatesView.Create(ListModel(context, frame, store, time, null)));

        // The table form: "Set Default" (the Default radio column) or Apply with Export/Delete for the checked rows.
        ui.MapPost("/security/certificates", async Task<IResult> (HttpContext context, PageFrame frame, CertificateStore store, TimeProvider time) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var ids = form["id"];
            if (form["op"] == "default")
            {
                var id = form["default"].ToString();
                try
                {
                    store.SetDefault(id.Length == 0 || id == "none" ? null : id);
                    var name = id.Length == 0 || id == "none" ? null : store.GetCertificate(id).FriendlyName;
                    AuditTrail.Done(context, CertificateAudit.Default(name));
                    return frame.Redirect(context, Certificates, Notice.Ok(name is null
                        ? "No default certificate is set: clients without SNI, or with a name no certificate matches, get the certificate assigned to their address, or the factory certificate."
                        : $"'{name}' is now the default certificate, served to clients that send no SNI or a name no certificate matches."));
                }
                catch (Exception e) when (RefusalMap.Of(e) is { ShownInForm: true } refusal)
                {
                    return UiEndpoints.Render(CertificatesView.Create(ListModel(context, frame, store, time, Notice.Error(refusal.Detail))), refusal);
                }
            }
            AuditTrail.NotAChange(context); // Apply leads to the export or delete page, where the change is made
            if (ids.Count == 0)
                return UiEndpoints.Render(CertificatesView.Create(ListModel(context, frame, store, time,
                    Notice.Error("Check the box beside at least one certificate, then choose Export or Delete and click Apply."))), 400);
            return form["action"].ToString() switch
            {
                "export" => frame.Redirect(context, Certificates + "/export" + IdQuery(ids)),
                "delete" => frame.Redirect(context, Certificates + "/delete" + IdQuery(ids)),
                _ => UiEndpoints.Render(CertificatesView.Create(ListModel(context, frame, store, time,
                    Notice.Error("Choose Export or Delete from the dropdown, then click Apply."))), 400),
            };
        }).Audited("Set the default certificate");

        ui.MapGet("/security/certificates/import", IResult (HttpContext context, PageFrame frame) =>
            ImportView.Create(new ImportPage(frame.Build(context, "Security :: Certificates :: Import", Section, Page))));

        ui.MapPost("/security/certificates/import", async Task<IResult> (HttpContext context, PageFrame frame, CertificateStore store) =>
        {
            try
            {
                var upload = await UploadReader.ReadAsync(context);
                var result = store.Import(upload.Files, upload.Password, context.RequestAborted);
                AuditTrail.Done(context, CertificateAudit.Imported(result));
                var what = new List<string>();
                if (result.Certificates.Count > 0) what.Add($"{result.Certificates.Count} certificate{(result.Certificates.Count == 1 ? "" : "s")} ({string.Join(", ", result.Certificates.Select(c => c.FriendlyName))})");
                if (result.Keys.Count > 0) what.Add($"{result.Keys.Count} private key{(result.Keys.Count == 1 ? "" : "s")}");
                return frame.Redirect(context, Certificates, Notice.Ok($"Imported {string.Join(" and ", what)}.", result.Warnings));
            }
            catch (Exception e) when (RefusalMap.Of(e) is { ShownInForm: true } refusal)
            {
                return UiEndpoints.Render(ImportView.Create(new ImportPage(frame.Build(context, "Security :: Certificates :: Import", Section, Page, Notice.Error(refusal.Detail)))), refusal);
            }
        }).Audited("Import certificates");

        // ?like=<certificate id>: "New request like this" (the seed's re-key and re-issue) pre-fills the form from a stored
        // certificate: its subject and names, a new key of the same type (its own key is one choice away in the list).
        ui.MapGet("/security/certificates/new", IResult (HttpContext context, PageFrame frame, CertificateStore store, string? like) =>
        {
            var empty = new NewCertificateForm("", KeyFactory.KeyTypes[0], "", "", "", "", "", "", [], "");
            if (like is null) return NewCertificateView.Create(NewModel(context, frame, store, empty, null));
            var model = store.ListCertificates().FirstOrDefault(c => c.Id == like);
            return model is null
                ? UiEndpoints.Render(NewCertificateView.Create(NewModel(context, frame, store, empty,
                    Notice.Error($"There is no certificate with id '{SafeText.Escape(like, 64)}' to copy; it may have been deleted. Fill in the form, or open the certificate again."))), 404)
                : NewCertificateView.Create(NewModel(context, frame, store, LikeForm(model, store.ListCertificates(), store.ListRequests()), null));
        });

        // One form for the whole New Certificate section: "Add" (and Remove) re-render it with the SAN list changed,
        // so it works without JavaScript; the two create buttons create the request or the self-signed certificate.
        ui.MapPost("/security/certificates/new", async Task<IResult> (HttpContext context, PageFrame frame, CertificateStore store) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var names = form["san"].Select(s => s ?? "").Where(s => s.Trim().Length > 0).Select(s => s.Trim()).ToList();
            var typed = form["sanNew"].ToString().Trim();
            var action = form["action"].ToString();
            string F(string name) => form[name].ToString().Trim();
            if (action == "add" || action is "request" or "selfsigned")
                foreach (var name in typed.Split([',', ' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries))
                    if (!names.Contains(name, StringComparer.OrdinalIgnoreCase)) names.Add(name);
            if (action.StartsWith("remove:", StringComparison.Ordinal) && int.TryParse(action["remove:".Length..], out var index) && index >= 0 && index < names.Count)
                names.RemoveAt(index);
            var model = new NewCertificateForm(F("friendlyName"), F("key"), F("country"), F("state"), F("locality"), F("organization"),
                F("organizationalUnit"), F("commonName"), names, action is "add" or "request" or "selfsigned" ? "" : typed);
            if (action is not ("request" or "selfsigned"))
            {
                AuditTrail.NotAChange(context); // "Add" or "Remove" of a name re-renders the form
                return NewCertificateView.Create(NewModel(context, frame, store, model, null));
            }
            try
            {
                var subject = new SubjectName(Null(model.Country), Null(model.State), Null(model.Locality), Null(model.Organization),
                    Null(model.OrganizationalUnit), Null(model.CommonName));
                var (request, certificate) = store.Create(new CreateCertificateSpec(model.FriendlyName, model.Key, subject, names, action == "selfsigned"));
                AuditTrail.Done(context, CertificateAudit.Created(request, certificate));
                return certificate is not null
                    ? frame.Redirect(context, Certificates, Notice.Ok($"The self-signed certificate '{certificate.FriendlyName}' is created."))
                    : frame.Redirect(context, Requests + "/" + request!.Id, Notice.Ok($"The certificate request '{request.FriendlyName}' is created. Copy the Request Data below and submit it to your certificate authority; then import the certificate it sends back."));
            }
            catch (Exception e) when (RefusalMap.Of(e) is { ShownInForm: true } refusal)
            {
                return UiEndpoints.Render(NewCertificateView.Create(NewModel(context, frame, store, model, Notice.Error(refusal.Detail))), refusal);
            }
        }).Audited("Create a certificate request or self-signed certificate");

        ui.MapGet("/security/certificates/export", IResult (HttpContext context, PageFrame frame, CertificateStore store, TimeProvider time) =>
        {
            var selected = Selected(store, context.Request.Query["id"], time);
            if (selected.Count == 0)
                return frame.Redirect(context, Certificates, Notice.Error("The certificates to export are no longer stored; check the boxes again."));
            return ExportView.Create(new ExportPage(frame.Build(context, "Security :: Certificates :: Export", Section, Page), selected,
                context.Request.Query["mode"] == "individual"));
        });

        ui.MapPost("/security/certificates/export", async Task<IResult> (HttpContext context, PageFrame frame, CertificateStore store, TimeProvider time) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var ids = form["id"];
            if (form["mode"] == "individual")
            {
                AuditTrail.NotAChange(context);
                return frame.Redirect(context, Certificates + "/export" + IdQuery(ids) + "&mode=individual");
            }
            var wantsKey = form["mode"] != "pkcs7" && Checked(form["privateKey"]);
            var confirmed = wantsKey && form["unencrypted"] == "confirmed";
            // A key asked for as PEM without a passphrase is not refused outright (the seed allows it) but takes a separate,
            // explicit confirmation step first; that step changes nothing, so it is not an audited change.
            if (wantsKey && !confirmed && form["passphrase"].ToString().Length == 0 && form["format"] != "pkcs12"
                && ids.Count == 1 && Selected(store, ids, time) is [{ Certificate.HasPrivateKey: true } row])
            {
                AuditTrail.NotAChange(context);
                return ExportView.Create(new ExportPage(frame.Build(context, "Security :: Certificates :: Export", Section, Page), [row], form["individual"] == "1",
                    new UnencryptedExport(row, Checked(form["certificate"]), Checked(form["chain"]), form["individual"] == "1")));
            }
            try
            {
                if (confirmed && !Checked(form["understood"]))
                    throw new RequestException(RequestFailure.Invalid,
                        "The private key was not exported: tick \"I understand\" to export it without a passphrase, or go back and set a passphrase.");
                var spec = form["mode"] == "pkcs7"
                    ? new ExportSpec(ids.Select(i => i ?? "").ToList(), true, false, false, null, ExportFormat.Pkcs7)
                    : new ExportSpec(ids.Select(i => i ?? "").ToList(), Checked(form["certificate"]), wantsKey, Checked(form["chain"]),
                        wantsKey && !confirmed ? form["passphrase"].ToString() : null,
                        form["format"] == "pkcs12" ? ExportFormat.Pkcs12 : ExportFormat.Pem, UnencryptedPrivateKey: confirmed);
                var file = store.Export(spec);
                AuditTrail.Done(context, CertificateAudit.Exported(spec, Selected(store, ids, time).Select(r => r.Certificate.FriendlyName)));
                return Results.File(file.Content, file.ContentType, file.FileName);
            }
            catch (Exception e) when (RefusalMap.Of(e) is { ShownInForm: true } refusal)
            {
                var selected = Selected(store, ids, time);
                return UiEndpoints.Render(ExportView.Create(new ExportPage(frame.Build(context, "Security :: Certificates :: Export", Section, Page, Notice.Error(refusal.Detail)),
                    selected, form["individual"] == "1")), refusal);
            }
        }).Audited("Export certificates");

        ui.MapGet("/security/certificates/delete", IResult (HttpContext context, PageFrame frame, CertificateStore store, TimeProvider time) =>
        {
            var selected = Selected(store, context.Request.Query["id"], time);
            if (selected.Count == 0)
                return frame.Redirect(context, Certificates, Notice.Error("The certificates to delete are no longer stored; check the boxes again."));
            return DeleteView.Create(new DeletePage(frame.Build(context, "Security :: Certificates :: Delete", Section, Page), selected));
        });

        ui.MapPost("/security/certificates/delete", async Task<IResult> (HttpContext context, PageFrame frame, CertificateStore store, TimeProvider time) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var (deleted, refused) = DeleteEach(form["id"], id => store.GetCertificate(id).FriendlyName, store.Delete);
            if (deleted.Count > 0) AuditTrail.Done(context, string.Join("; ", deleted.Select(CertificateAudit.Deleted)));
            return frame.Redirect(context, Certificates, DeleteNotice(deleted, refused, "Deleted"));
        }).Audited("Delete certificates");

        ui.MapGet("/security/requests/{id}", IResult (string id, HttpContext context, PageFrame frame, CertificateStore store) =>
        {
            var request = store.ListRequests().FirstOrDefault(r => r.Id == id);
            return request is null
                ? frame.Redirect(context, Certificates, Notice.Error($"There is no certificate request with id '{id}'; it may have been deleted."))
                : RequestView.Create(new RequestPage(frame.Build(context, "Security :: Certificate Requests :: " + request.FriendlyName, Section, Page), request));
        });

        ui.MapPost("/security/requests", async Task<IResult> (HttpContext context, PageFrame frame, CertificateStore store, TimeProvider time) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var ids = form["id"];
            AuditTrail.NotAChange(context); // Apply leads to the delete page, where the change is made
            if (ids.Count == 0 || form["action"] != "delete")
                return UiEndpoints.Render(CertificatesView.Create(ListModel(context, frame, store, time,
                    Notice.Error("Check the box beside at least one certificate request, choose Delete and click Apply."))), 400);
            return frame.Redirect(context, Requests + "/delete" + IdQuery(ids));
        }).Audited("Choose certificate requests to delete (no change)");

        ui.MapGet("/security/requests/delete", IResult (HttpContext context, PageFrame frame, CertificateStore store) =>
        {
            var ids = context.Request.Query["id"];
            var selected = store.ListRequests().Where(r => ids.Contains(r.Id)).ToList();
            if (selected.Count == 0)
                return frame.Redirect(context, Certificates, Notice.Error("The certificate requests to delete are no longer stored; check the boxes again."));
            return DeleteRequestsView.Create(new DeleteRequestsPage(frame.Build(context, "Security :: Certificate Requests :: Delete", Section, Page), selected));
        });

        ui.MapPost("/security/requests/delete", async Task<IResult> (HttpContext context, PageFrame frame, CertificateStore store) =>
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            var (deleted, refused) = DeleteEach(form["id"], id => store.GetRequest(id).FriendlyName, store.DeleteRequest);
            if (deleted.Count > 0) AuditTrail.Done(context, string.Join("; ", deleted.Select(CertificateAudit.DeletedRequest)));
            return frame.Redirect(context, Certificates, DeleteNotice(deleted, refused, deleted.Count == 1 ? "Deleted the certificate request" : "Deleted the certificate requests"));
        }).Audited("Delete certificate requests");
    }

    /// <summary>Deletes each one on its own (each a store transaction); returns the names deleted and the refusals in words.</summary>
    private static (List<string> Deleted, List<string> Refused) DeleteEach(StringValues ids, Func<string, string> nameOf, Action<string> delete)
    {
        var deleted = new List<string>();
        var refused = new List<string>();
        foreach (var id in ids.Distinct())
        {
            try
            {
                var name = nameOf(id ?? "");
                delete(id ?? "");
                deleted.Add(name);
            }
            catch (Exception e) when (RefusalMap.Of(e) is { ShownInForm: true } refusal)
            {
                refused.Add(refusal.Detail);
            }
        }
        return (deleted, refused);
    }

    private static Notice DeleteNotice(List<string> deleted, List<string> refused, string verb)
    {
        var names = string.Join(", ", deleted.Select(n => $"'{n}'"));
        return refused.Count == 0 ? Notice.Ok($"{verb} {names}.")
            : new Notice("error", deleted.Count == 0 ? "Nothing was deleted." : $"Deleted {names}; the others were not deleted.", refused);
    }

    internal static CertificatesPage ListModel(HttpContext context, PageFrame frame, CertificateStore store, TimeProvider time, Notice? notice,
        AcmeRequestForm? acmeForm = null)
    {
        var now = time.GetUtcNow();
        return new CertificatesPage(frame.Build(context, "Security :: Certificates", Section, Page, notice),
            store.ListCertificates().Select(c => Row(c, now)).ToList(), store.ListRequests().OrderBy(r => r.IsIssued).ThenByDescending(r => r.CreatedAt).ToList(),
            AcmePages.Panel(context, acmeForm));
    }

    private static CertificateRow Row(StoredCertificate c, DateTimeOffset now) =>
        new(c, CertificateStore.DefaultRefusal(c), CertificateWarnings.For(c, now));

    private static List<CertificateRow> Selected(CertificateStore store, StringValues ids, TimeProvider time)
    {
        var now = time.GetUtcNow();
        return store.ListCertificates().Where(c => ids.Contains(c.Id)).Select(c => Row(c, now)).ToList();
    }

    private static NewCertificatePage NewModel(HttpContext context, PageFrame frame, CertificateStore store, NewCertificateForm form, Notice? notice)
    {
        // Existing keys: each stored certificate's, then the keys without a certificate (a pending request's, or imported alone).
        var requests = store.ListRequests();
        var keys = KeyFactory.KeyTypes.Select(k => new KeyOption(k, KeyLabel(k)))
            .Concat(store.ListCertificates().Where(c => c.HasPrivateKey && !c.IsFactory)
                .Select(c => new KeyOption(KeyReference.Existing(c.Id), $"Existing key of {c.FriendlyName}")))
            .Concat(store.ListKeys().Where(k => k.CertificateId is null).Select(k => new KeyOption(KeyReference.Existing(k.Id),
                requests.FirstOrDefault(r => r.KeyId == k.Id && !r.IsIssued) is { } pending
                    ? $"Existing key of the request {pending.FriendlyName} ({KeyTypeServing.Name(k.Algorithm)} {k.KeySize})"
                    : $"Existing key imported without a certificate ({KeyTypeServing.Name(k.Algorithm)} {k.KeySize}, {k.Id})")))
            .ToList();
        return new NewCertificatePage(frame.Build(context, "Security :: Certificates :: New Certificate", Section, Page, notice), form, keys);
    }

    /// <summary>The New Certificate form filled from a stored certificate, under a friendly name not yet used.</summary>
    private static NewCertificateForm LikeForm(StoredCertificate model, IReadOnlyList<StoredCertificate> certificates, IReadOnlyList<StoredRequest> requests)
    {
        var subject = SubjectFields.Read(model.Certificate.SubjectName);
        var keyType = (model.Facts.KeyAlgorithm, model.Facts.KeySize) switch
        {
            (KeyAlgorithm.Rsa, 3072) => "rsa-3072",
            (KeyAlgorithm.Rsa, 4096) => "rsa-4096",
            (KeyAlgorithm.Ecdsa, 384) => "ecdsa-p384",
            (KeyAlgorithm.Ecdsa, _) => "ecdsa-p256",
            _ => "rsa-2048",
        };
        var taken = certificates.Select(c => c.FriendlyName).Concat(requests.Select(r => r.FriendlyName)).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var stem = model.FriendlyName.Length > CertificateStore.MaxFriendlyNameLength - 6 ? model.FriendlyName[..(CertificateStore.MaxFriendlyNameLength - 6)] : model.FriendlyName;
        var name = Enumerable.Range(2, 98).Select(n => $"{stem} ({n})").FirstOrDefault(n => !taken.Contains(n)) ?? "";
        return new NewCertificateForm(name, keyType, subject.Country ?? "", subject.State ?? "", subject.Locality ?? "", subject.Organization ?? "",
            subject.OrganizationalUnit ?? "", subject.CommonName ?? "", model.Facts.SubjectAlternativeNames.ToList(), "");
    }

    public static string KeyLabel(string keyType) => keyType switch
    {
        ['r', 's', 'a', '-', .. var bits] => $"New key: RSA {bits} bits",
        "ecdsa-p256" => "New key: ECDSA P-256",
        "ecdsa-p384" => "New key: ECDSA P-384",
        _ => "New key: " + keyType,
    };

    private static string IdQuery(StringValues ids) => "?" + string.Join('&', ids.Select(i => "id=" + Uri.EscapeDataString(i ?? "")));

    private static bool Checked(StringValues value) => value.Count > 0 && value.ToString() is "on" or "true" or "1";

    private static string? Null(string value) => value.Length == 0 ? null : value;
}
