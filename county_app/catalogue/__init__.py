"""The matter catalogue (政务服务事项清单): its workbook format, validation and storage."""
