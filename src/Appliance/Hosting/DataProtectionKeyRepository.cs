using System.Xml;
using System.Xml.Linq;
using Appliance.Platform.Files;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Appliance.Hosting;

/// <summary>
/// The data-protection key ring (anti-forgery tokens, page notices) in the state directory, written durably (the file
/// and its directory fsynced before the key is used) and read forgivingly: a key file that a power cut left empty or
/// cut off is set aside as <c>NAME.damaged</c> and reported, never a reason for the service not to start. Losing a key
/// costs only the forms and notices made with it. ASP.NET's own file repository renames without fsync and throws on
/// such a file at every start (seen after a hard power-off in the image tests).
/// </summary>
internal sealed class DataProtectionKeyRepository(string directory, Action<string, string> reportDamaged) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        Directory.CreateDirectory(directory);
        var elements = new List<XElement>();
        foreach (var path in Directory.EnumerateFiles(directory, "*.xml"))
        {
            try
            {
                using var stream = File.OpenRead(path);
                elements.Add(XElement.Load(stream));
            }
            catch (Exception e) when (e is XmlException or IOException)
            {
                reportDamaged(path, e.Message);
                try
                {
                    DurableFile.Move(path, path + ".damaged");
                }
                catch (IOException)
                {
                    // Left in place: it is skipped again at the next read.
                }
            }
        }
        return elements;
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        Directory.CreateDirectory(directory);
        var name = string.Concat(friendlyName.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));
        if (name.Length == 0) name = "key-" + Guid.NewGuid().ToString("N");
        using var buffer = new MemoryStream();
        element.Save(buffer);
        DurableFile.Write(Path.Combine(directory, name + ".xml"), buffer.ToArray());
    }
}
