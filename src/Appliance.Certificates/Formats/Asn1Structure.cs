namespace Appliance.Certificates.Formats;

/// <summary>
/// BouncyCastle's structure decoders (X.GetInstance, X.FromByteArray) refuse a wrong shape with an ArgumentException,
/// an IOException, or an InvalidCastException from a constructor that casts an element (found by fuzzing: a PBES2
/// encryption scheme whose OID is an ObjectDescriptor). Each means the file is damaged; this says so in words.
/// </summary>
internal static class Asn1Structure
{
    internal static T Decode<T>(Func<T> decode, string fileName, string what)
    {
        try
        {
            return decode();
        }
        catch (Exception e) when (e is InvalidCastException or IOException or (ArgumentException and not ArgumentOutOfRangeException))
        {
            throw ImportErrors.Damaged(fileName, $"it holds a malformed {what}");
        }
    }
}
