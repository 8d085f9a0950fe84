Attribute VB_Name = "Reviewkit"
' reviewkit: the Refresh button of review workbooks (.xlsm).
'
' This file is the source of truth for the VBA inside every workbook reviewkit writes:
' scripts/build_vba.py compiles it into src/reviewkit/data/vbaProject.bin and
' tests/test_vba.py proves the two agree. Keep it ASCII (the VBA project is stored in
' code page 1252); Chinese text is spelled with ChrW code points in U().
'
' The button runs Python through xlwings' RunPython, looked up when clicked, so this
' module compiles without a reference to xlwings:
'   1. RunPython in this workbook (xlwings.bas imported: xlwings "standalone" mode), else
'   2. RunPython in the xlwings add-in (pip install xlwings, then: xlwings addin install).
' Which Python runs, and its PYTHONPATH, come from the add-in's settings or from an
' "xlwings.conf" sheet in this workbook (Interpreter_Win, Interpreter_Mac, PYTHONPATH).
' Python reports its own errors (a message box and the status cell); this module only
' reports the errors of finding Python.
Option Explicit

Public Const PYTHON_COMMAND As String = "import reviewkit.button; reviewkit.button.refresh()"

Private Const MACRO_NOT_FOUND As Long = 1004

' The button's macro: recompute the review in this open workbook.
Public Sub Refresh()
    Dim found As String
    On Error GoTo Failed
    Application.StatusBar = "reviewkit: " & U("5237 65B0 4E2D") & " / refreshing ..."
    found = CallRunPython(PYTHON_COMMAND)
    Application.StatusBar = False
    If found = "" Then ShowSetupHelp
    Exit Sub
Failed:
    Application.StatusBar = False
    MsgBox "reviewkit: " & U("5237 65B0 5931 8D25 FF1A") & " / refresh failed:" & vbLf & _
           Err.Description, vbExclamation, "reviewkit"
End Sub

' Run a Python command through the first RunPython found; return where it was found,
' or "" when neither this workbook nor the xlwings add-in has one.
Public Function CallRunPython(ByVal pythonCode As String) As String
    Dim targets(1 To 2) As String
    Dim i As Integer
    Dim errNumber As Long, errText As String
    targets(1) = "'" & Replace(ThisWorkbook.Name, "'", "''") & "'!RunPython"
    targets(2) = "xlwings.xlam!RunPython"
    For i = 1 To 2
        On Error Resume Next
        Err.Clear
        Application.Run targets(i), pythonCode
        errNumber = Err.Number
        errText = Err.Description
        On Error GoTo 0
        If errNumber = 0 Then
            CallRunPython = targets(i)
            Exit Function
        End If
        If errNumber <> MACRO_NOT_FOUND Then Err.Raise errNumber, "reviewkit", errText
    Next i
    CallRunPython = ""
End Function

' Tell the user, in both languages, how to let this workbook find Python.
Public Sub ShowSetupHelp()
    MsgBox U("65E0 6CD5 901A 8FC7") & " xlwings " & U("542F 52A8") & " Python" & _
           U("3002 8BF7 5148 8FD0 884C FF1A") & vbLf & _
           "reviewkit could not start Python through xlwings. Run once:" & vbLf & vbLf & _
           "    pip install ""reviewkit-excel[excel]""" & vbLf & _
           "    (or the reviewkit wheel or folder you were given, with [excel])" & vbLf & _
           "    xlwings addin install" & vbLf & vbLf & _
           U("7136 540E 91CD 65B0 6253 5F00 672C 5DE5 4F5C 7C3F 3002") & vbLf & _
           "Then close and reopen this workbook.", vbInformation, "reviewkit"
End Sub

' Text from space-separated hexadecimal Unicode code points, e.g. U("5237 65B0").
Public Function U(ByVal codes As String) As String
    Dim parts() As String
    Dim i As Integer
    parts = Split(codes, " ")
    For i = LBound(parts) To UBound(parts)
        U = U & ChrW(CLng("&H" & parts(i)))
    Next i
End Function
